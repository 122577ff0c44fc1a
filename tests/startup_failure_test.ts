import assert from "node:assert/strict";
import { StoreError, StoreOpenError } from "../chat/store.ts";
import { TokenKeyError } from "../chat/identity.ts";
import { StartupError } from "../server/listen.ts";
import { ConfigError } from "../server/settings.ts";
import { ExitCode, startupFailure } from "../server/startup_failure.ts";

Deno.test("a failure at start is one reason and one exit status, for every entry", async (t) => {
  await t.step("a bad setting exits 2 with its message", () => {
    assert.deepEqual(startupFailure(new ConfigError("PORT is not a port")), {
      message: "PORT is not a port",
      exitCode: ExitCode.BadUsage,
    });
  });

  await t.step(
    "a database file that cannot be opened says how to choose another",
    () => {
      assert.deepEqual(
        startupFailure(new StoreOpenError("/data/chat.db is a folder")),
        {
          message:
            "/data/chat.db is a folder; choose another file with --db or CHAT_DB",
          exitCode: ExitCode.CannotStart,
        },
      );
    },
  );

  await t.step(
    "a busy port, a store or a token key exits 1 with its message",
    () => {
      for (
        const error of [
          new StartupError("port 8000 is in use"),
          new StoreError("Redis is unreachable", { kind: "unreachable" }),
          new TokenKeyError("the secret is too short"),
        ]
      ) {
        assert.deepEqual(startupFailure(error), {
          message: error.message,
          exitCode: ExitCode.CannotStart,
        });
      }
    },
  );

  await t.step("any other error is not a start-up failure but a bug", () => {
    assert.equal(startupFailure(new TypeError("x is undefined")), undefined);
  });
});

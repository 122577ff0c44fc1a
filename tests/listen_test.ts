import assert from "node:assert/strict";
import {
  denoServeAddress,
  explainBindFailure,
  startLine,
  StartupError,
} from "../server/listen.ts";
import { ConfigError } from "../server/settings.ts";

Deno.test("listening", async (t) => {
  await t.step("deno serve gets an address it can parse, never a name", () => {
    assert.equal(
      denoServeAddress({ host: "127.0.0.1", port: 8000 }),
      "tcp:127.0.0.1:8000",
    );
    assert.equal(
      denoServeAddress({ host: "::1", port: 9001 }),
      "tcp:[::1]:9001",
    );
    assert.equal(
      denoServeAddress({ host: "localhost", port: 80 }),
      "tcp:127.0.0.1:80",
      "deno serve cannot resolve localhost itself",
    );
    assert.throws(
      () => denoServeAddress({ host: "chat.example", port: 80 }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /must be an IP address/.test(error.message),
    );
  });

  await t.step(
    "bind failures become one sentence naming what to change",
    () => {
      const where = { host: "127.0.0.1", port: 8000 };
      const cases: [unknown, RegExp][] = [
        [
          new Deno.errors.AddrInUse("x"),
          /port 8000 on 127\.0\.0\.1 is already in use.*--port or PORT/,
        ],
        [
          new Deno.errors.AddrNotAvailable("x"),
          /not an address of this machine.*--host or HOST/,
        ],
        [new Deno.errors.PermissionDenied("x"), /ports below 1024/],
        [
          new Error(
            "failed to lookup address information: Name or service not known",
          ),
          /cannot resolve the host name/,
        ],
      ];
      for (const [error, message] of cases) {
        const explained = explainBindFailure(error, where);
        assert.ok(explained instanceof StartupError);
        assert.match(explained.message, message);
        assert.doesNotMatch(explained.message, /\n/);
      }
      assert.equal(
        explainBindFailure(new TypeError("other"), where),
        undefined,
      );
    },
  );

  await t.step("the start line says where, how and where the data is", () => {
    assert.equal(
      startLine({
        address: { hostname: "::1", port: 8000 },
        mode: "2 workers",
        data: "in memory (lost when the server stops)",
      }),
      "Chat server ready at http://[::1]:8000/chat/ (2 workers); data in memory (lost when the server stops)",
    );
    assert.match(
      startLine({
        address: { hostname: "0.0.0.0", port: 80 },
        mode: "1 isolate",
        data: "in ./data/chat.db",
      }),
      /\(1 isolate, on every interface\); data in \.\/data\/chat\.db$/,
    );
  });
});

import assert from "node:assert/strict";
import { ConfigError, denoServeAddress, loadConfig } from "../config.ts";

const noEnv = () => undefined;

Deno.test("configuration", async (t) => {
  await t.step("defaults to 127.0.0.1:8000", () => {
    const config = loadConfig([], noEnv);
    assert.equal(config.port, 8000);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(denoServeAddress(config), "tcp:127.0.0.1:8000");
  });

  await t.step("reads PORT and HOST, and flags win over them", () => {
    const env = (name: string) => ({ PORT: "9001", HOST: "0.0.0.0" })[name];
    assert.equal(loadConfig([], env).port, 9001);
    assert.equal(loadConfig(["--port", "9002"], env).port, 9002);
    assert.equal(loadConfig(["--host", "::1"], env).host, "::1");
    assert.equal(
      denoServeAddress(loadConfig(["--host", "::1"], env)),
      "tcp:[::1]:9001",
    );
  });

  await t.step(
    "storage and history settings have their documented defaults",
    () => {
      const config = loadConfig([], noEnv);
      assert.equal(config.db, "./data/chat.db");
      assert.equal(config.historyLimit, 50);
      assert.equal(config.historyMax, 10_000);
      assert.equal(config.recoveryLimit, 1000);
      assert.equal(config.presenceHeartbeatMs, 5000);
      assert.equal(config.presenceTtlMs, 15_000);
      assert.equal(loadConfig(["--db", ":memory:"], noEnv).db, ":memory:");
      assert.equal(
        loadConfig([], (name) => name === "CHAT_DB" ? "/tmp/x.db" : undefined)
          .db,
        "/tmp/x.db",
      );
    },
  );

  await t.step("refuses bad values with a message naming the input", () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [[], { PORT: "http" }, /PORT must be a whole number, got "http"/],
      [[], { PORT: "70000" }, /PORT must be between 0 and 65535/],
      [["--port=-1"], {}, /--port must be between/],
      [[], { LOG_LEVEL: "loud" }, /LOG_LEVEL must be one of/],
      [["--nope"], {}, /nope/],
      [[], { CHAT_HISTORY_MAX: "0" }, /CHAT_HISTORY_MAX must be between 1/],
      [[], { CHAT_DB: " " }, /CHAT_DB must not be empty/],
      [
        [],
        { CHAT_PRESENCE_HEARTBEAT_MS: "1000", CHAT_PRESENCE_TTL_MS: "500" },
        /CHAT_PRESENCE_TTL_MS \(500\) must be longer/,
      ],
    ];
    for (const [args, env, message] of cases) {
      assert.throws(
        () => loadConfig(args, (name) => env[name]),
        (error: unknown) =>
          error instanceof ConfigError && message.test(error.message),
      );
    }
  });
});

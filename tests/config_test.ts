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

  await t.step("refuses bad values with a message naming the input", () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [[], { PORT: "http" }, /PORT must be a whole number, got "http"/],
      [[], { PORT: "70000" }, /PORT must be between 0 and 65535/],
      [["--port=-1"], {}, /--port must be between/],
      [[], { LOG_LEVEL: "loud" }, /LOG_LEVEL must be one of/],
      [["--nope"], {}, /nope/],
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

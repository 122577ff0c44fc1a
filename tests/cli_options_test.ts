import assert from "node:assert/strict";
import { settingList } from "../server/settings.ts";
import { VERSION } from "../server/settings_docs.ts";
import { SERVER } from "../testkit/process.ts";
import { assertOneLine, describe, runToExit } from "../testkit/cli.ts";

Deno.test("--help and --version", async (t) => {
  await t.step("--help exits 0 and lists every flag and variable", async () => {
    const run = await runToExit(SERVER.run("--help"));
    assert.equal(run.code, 0, describe(run));
    assert.equal(run.stderr, "");
    for (const { setting } of settingList()) {
      assert.ok(run.stdout.includes(`--${setting.flag}`), setting.flag);
      assert.ok(run.stdout.includes(setting.env), setting.env);
    }
  });

  await t.step("--version prints chat-server and the version", async () => {
    const run = await runToExit(SERVER.run("--version"));
    assert.equal(run.code, 0, describe(run));
    assert.equal(run.stdout, `chat-server ${VERSION}\n`);
    assert.equal(run.stderr, "");
  });
});

Deno.test("a bad option or value is one line and exit 2", async (t) => {
  const cases: {
    name: string;
    args: string[];
    env?: Record<string, string>;
    says: (string | RegExp)[];
  }[] = [
    { name: "an unknown flag", args: ["--nope"], says: ["'--nope'"] },
    {
      name: "a positional argument",
      args: ["serve"],
      says: ["'serve'"],
    },
    {
      name: "a bad flag value",
      args: ["--port", "x"],
      says: ["--port", '"x"', "a whole number from 0 to 65535"],
    },
    {
      name: "a flag value that looks like a flag",
      args: ["--port", "-1"],
      says: ["'--port'", "--port=-XYZ"],
    },
    {
      name: "a bad variable value",
      args: [],
      env: { CHAT_RATE_LIMIT: "lots" },
      says: ["CHAT_RATE_LIMIT", '"lots"', "a whole number"],
    },
    {
      name: "a presence TTL no longer than the heartbeat",
      args: ["--presence-heartbeat-ms", "1000"],
      env: { CHAT_PRESENCE_TTL_MS: "1000" },
      says: [
        "CHAT_PRESENCE_TTL_MS (1000)",
        "CHAT_PRESENCE_HEARTBEAT_MS (1000)",
      ],
    },
  ];
  for (const { name, args, env, says } of cases) {
    await t.step(name, async () => {
      const run = await runToExit(
        SERVER.run(...args, "--db", ":memory:"),
        env,
      );
      assertOneLine(run, 2, ...says);
    });
  }
});

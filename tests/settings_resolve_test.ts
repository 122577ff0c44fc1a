import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../server/settings.ts";
import {
  assertRefused,
  envOf,
  noEnv,
  ONE_CPU,
  SECRET_A,
  SECRET_B,
} from "../testkit/settings.ts";

Deno.test("auto settings follow the machine", async (t) => {
  await t.step("--workers auto starts one worker per CPU", () => {
    assert.equal(
      loadConfig(["--workers", "auto"], noEnv, { cpus: 6 }).workers,
      6,
    );
    assert.equal(
      loadConfig([], envOf({ CHAT_WORKERS: "AUTO" }), { cpus: 3 }).workers,
      3,
    );
    assert.equal(
      loadConfig(["--workers", "auto"], noEnv, { cpus: 0 }).workers,
      1,
    );
    assert.equal(
      loadConfig(["--workers", "auto"], noEnv, { cpus: 1000 }).workers,
      256,
    );
    assert.equal(loadConfig(["--workers", "5"], noEnv, { cpus: 2 }).workers, 5);
  });

  await t.step("auto connections follow the open-file limit", () => {
    const auto = (openFileLimit?: number) =>
      loadConfig([], noEnv, {
        cpus: 2,
        ...(openFileLimit === undefined ? {} : { openFileLimit }),
      }).maxConnections;
    assert.equal(auto(), 10_000, "unknown limit: the ceiling");
    assert.equal(auto(20_000), 10_000, "a big limit: the ceiling");
    assert.equal(auto(1024), 614, "4/5 of what is left after 256");
    assert.equal(auto(256), 16, "never below 16");
    assert.equal(
      loadConfig(["--max-connections", "50"], noEnv, {
        cpus: 2,
        openFileLimit: 1024,
      }).maxConnections,
      50,
      "a number given wins",
    );
  });

  await t.step("auto connections per address are a fifth of the total", () => {
    const perIp = (args: string[], openFileLimit?: number) =>
      loadConfig(args, noEnv, {
        cpus: 2,
        ...(openFileLimit === undefined ? {} : { openFileLimit }),
      }).maxConnectionsPerIp;
    assert.equal(perIp([]), 2_000, "an office of 2 000 on the ceiling");
    assert.equal(perIp([], 1024), 122, "a fifth of 614");
    assert.equal(perIp(["--max-connections", "3"]), 1, "never below 1");
    assert.equal(
      perIp(["--max-connections-per-ip", "50"]),
      50,
      "a number given wins",
    );
  });
});

Deno.test("settings that depend on each other", async (t) => {
  await t.step("an address's message budget follows the sender's", () => {
    const address = (args: string[]) => {
      const config = loadConfig(args, noEnv);
      return [config.addressRateLimit, config.addressRateBurst];
    };
    assert.deepEqual(address([]), [200, 1_000]);
    assert.deepEqual(
      address(["--rate-limit", "2", "--rate-burst", "3"]),
      [80, 300],
    );
    assert.deepEqual(address(["--rate-limit", "0"]), [0, 1_000], "off too");
    assert.deepEqual(
      address(["--address-rate-limit", "7", "--address-rate-burst", "9"]),
      [7, 9],
      "numbers given win",
    );
  });

  await t.step("workers need a database file they can share", () => {
    assert.throws(
      () => loadConfig(["--workers", "2", "--db", ":memory:"], noEnv),
      (error: unknown) =>
        error instanceof ConfigError &&
        /--workers 2 needs a database file the workers share/.test(
          error.message,
        ),
    );
    assert.equal(loadConfig(["--db", ":memory:"], noEnv).workers, 1);
  });

  await t.step(
    "the presence TTL defaults to 3 × the heartbeat and must exceed it",
    () => {
      assert.equal(
        loadConfig(["--presence-heartbeat-ms", "1000"], noEnv).presenceTtlMs,
        3000,
      );
      assert.equal(
        loadConfig(
          ["--presence-heartbeat-ms", "1000"],
          envOf({ CHAT_PRESENCE_TTL_MS: "1001" }),
        ).presenceTtlMs,
        1001,
      );
      for (const ttl of ["500", "5000"]) {
        assertRefused(
          () => loadConfig([], envOf({ CHAT_PRESENCE_TTL_MS: ttl }), ONE_CPU),
          `CHAT_PRESENCE_TTL_MS (${ttl}) must be longer than CHAT_PRESENCE_HEARTBEAT_MS (5000)`,
        );
      }
      assertRefused(
        () =>
          loadConfig(
            ["--presence-heartbeat-ms", "20000"],
            envOf({ CHAT_PRESENCE_TTL_MS: "15000" }),
          ),
        "(15000) must be longer",
        "(20000)",
      );
    },
  );
});

Deno.test("the publish hook needs a signing secret", () => {
  const defaults = loadConfig([], noEnv, ONE_CPU);
  assert.equal(defaults.publishHookUrl, undefined);
  assert.equal(defaults.publishHookTimeoutMs, 1000);
  assert.equal(defaults.publishHookFailure, "allow");
  assertRefused(
    () =>
      loadConfig(
        [],
        envOf({ CHAT_PUBLISH_HOOK_URL: "http://127.0.0.1:9/hook" }),
        ONE_CPU,
      ),
    "CHAT_PUBLISH_HOOK_URL needs CHAT_WEBHOOK_SECRET",
  );
  assertRefused(
    () =>
      loadConfig(
        [],
        envOf({ CHAT_WEBHOOK_SECRET: `${SECRET_A},${SECRET_B},${SECRET_A}` }),
        ONE_CPU,
      ),
    "CHAT_WEBHOOK_SECRET must be",
  );
  try {
    loadConfig(
      [],
      envOf({ CHAT_WEBHOOK_SECRET: `${SECRET_A},whsec_!` }),
      ONE_CPU,
    );
    assert.fail("a bad signing secret was accepted");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.ok(!error.message.includes(SECRET_A), error.message);
    assert.equal(error.message.split("\n").length, 1);
  }
});

Deno.test("a webhook URL needs a secret, and a bad secret is refused unshown", () => {
  assertRefused(
    () =>
      loadConfig(
        ["--webhook-url", "https://site.example/hooks"],
        noEnv,
        ONE_CPU,
      ),
    "CHAT_WEBHOOK_URL needs CHAT_WEBHOOK_SECRET",
  );
  try {
    loadConfig(
      [],
      envOf({ CHAT_WEBHOOK_SECRET: "whsec_not base64!" }),
      ONE_CPU,
    );
    assert.fail("a bad secret was accepted");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.ok(!error.message.includes("not base64"), error.message);
    assert.match(error.message, /^CHAT_WEBHOOK_SECRET must be/);
  }
  const config = loadConfig([], noEnv, ONE_CPU);
  assert.deepEqual(config.webhookUrls, []);
  assert.equal(config.webhookMaxEvents, 100_000);
  assert.equal(config.webhookMaxAgeMs, 24 * 3_600_000);
  assert.equal(config.webhookTimeoutMs, 10_000);
});

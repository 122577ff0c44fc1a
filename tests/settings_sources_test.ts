import assert from "node:assert/strict";
import {
  defaultConfig,
  loadConfig,
  type SettingKey,
  settingList,
} from "../server/settings.ts";
import { SETTINGS } from "../server/setting_declarations.ts";
import {
  envOf,
  noEnv,
  ONE_CPU,
  SECRET_A,
  SECRET_B,
} from "../testkit/settings.ts";
/**
 * A valid value other than the default for every setting: the text given
 * on the command line or in the variable, and what the config holds then.
 * A `Record` over every key, so a new setting does not compile until it has
 * one here.
 */
const SAMPLES: Record<SettingKey, { text: string; value: unknown }> = {
  port: { text: "9123", value: 9123 },
  host: { text: "[::1]", value: "::1" },
  workers: { text: "3", value: 3 },
  db: { text: "/tmp/elsewhere/chat.db", value: "/tmp/elsewhere/chat.db" },
  redisUrl: {
    text: "rediss://chat:s3cret@cache.example:6380/2",
    value: new URL("rediss://chat:s3cret@cache.example:6380/2"),
  },
  logLevel: { text: "DEBUG", value: "debug" },
  historyLimit: { text: "7", value: 7 },
  historyMax: { text: "123", value: 123 },
  historyMaxAgeMs: { text: "12h", value: 12 * 3_600_000 },
  maxRooms: { text: "5", value: 5 },
  maxDbBytes: { text: "1048576", value: 1_048_576 },
  recoveryLimit: { text: "0", value: 0 },
  maxMessageChars: { text: "280", value: 280 },
  editWindowS: { text: "0", value: 0 },
  maxFrameBytes: { text: "4096", value: 4096 },
  rateLimit: { text: "0", value: 0 },
  rateBurst: { text: "3", value: 3 },
  addressRateLimit: { text: "50", value: 50 },
  addressRateBurst: { text: "60", value: 60 },
  connectRate: { text: "0", value: 0 },
  connectBurst: { text: "7", value: 7 },
  maxConnectionsPerIp: { text: "2", value: 2 },
  maxConnections: { text: "20", value: 20 },
  maxBufferedBytes: { text: "65536", value: 65536 },
  idleTimeoutS: { text: "90", value: 90 },
  frameAncestors: {
    text: "https://site.example, http://localhost:3000",
    value: ["https://site.example", "http://localhost:3000"],
  },
  allowedOrigins: {
    text: "https://chat.example, http://localhost:3000",
    value: ["https://chat.example", "http://localhost:3000"],
  },
  trustedProxies: {
    text: "127.0.0.1, 10.1.2.3/8, [::1], 2001:DB8::/32, ::ffff:192.0.2.0/120",
    value: [
      "127.0.0.1/32",
      "10.0.0.0/8",
      "::1/128",
      "2001:db8::/32",
      "192.0.2.0/24",
    ],
  },
  requireOrigin: { text: "1", value: true },
  auth: { text: "Optional", value: "optional" },
  authSecret: { text: "a".repeat(40), value: "a".repeat(40) },
  authPublicKey: { text: "/etc/chat/site.pem", value: "/etc/chat/site.pem" },
  authIssuer: { text: "https://site.example", value: "https://site.example" },
  authAudience: { text: "chat", value: "chat" },
  apiKey: { text: "k".repeat(32), value: "k".repeat(32) },
  adminSessionSecret: { text: "s".repeat(40), value: "s".repeat(40) },
  allowedHosts: {
    text: "Chat.Example, .example.org",
    value: ["chat.example", ".example.org"],
  },
  reservedNames: { text: "root, ｓｙｓｏｐ", value: ["root", "sysop"] },
  repairIntervalMs: { text: "250", value: 250 },
  presenceHeartbeatMs: { text: "1000", value: 1000 },
  presenceListMax: { text: "25", value: 25 },
  presenceTtlMs: { text: "20000", value: 20000 },
  webhookSecrets: {
    text: `${SECRET_A}, ${SECRET_B}`,
    value: [SECRET_A, SECRET_B],
  },
  publishHookUrl: {
    text: "https://site.example/chat/hook",
    value: new URL("https://site.example/chat/hook"),
  },
  publishHookTimeoutMs: { text: "250", value: 250 },
  publishHookFailure: { text: "Reject", value: "reject" },
  webhookUrls: {
    text: "https://site.example/hooks, http://10.0.0.5:8080/events",
    value: ["https://site.example/hooks", "http://10.0.0.5:8080/events"],
  },
  webhookTimeoutMs: { text: "2500", value: 2500 },
  webhookRetryBaseMs: { text: "50", value: 50 },
  webhookRetryMaxMs: { text: "60000", value: 60_000 },
  webhookMaxEvents: { text: "500", value: 500 },
  webhookMaxAgeMs: { text: "90m", value: 90 * 60_000 },
};

/** Other variables a sample needs to be valid (checked across settings). */
const COMPANIONS: Partial<Record<SettingKey, Record<string, string>>> = {
  auth: { CHAT_AUTH_SECRET: "s".repeat(32) },
  publishHookUrl: { CHAT_WEBHOOK_SECRET: SECRET_A },
  webhookUrls: { CHAT_WEBHOOK_SECRET: SECRET_A },
};

Deno.test("settings have defaults", async (t) => {
  await t.step("by default the server listens on 127.0.0.1:8000", () => {
    const config = loadConfig([], noEnv);
    assert.equal(config.port, 8000);
    assert.equal(config.host, "127.0.0.1");
  });

  await t.step("storage and history settings have their defaults", () => {
    const config = defaultConfig();
    assert.equal(config.db, "./data/chat.db");
    assert.equal(config.historyLimit, 50);
    assert.equal(config.historyMax, 10_000);
    assert.equal(config.recoveryLimit, 1000);
    assert.equal(config.presenceHeartbeatMs, 5000);
    assert.equal(config.presenceTtlMs, 15_000);
    assert.equal(loadConfig(["--db", ":memory:"], noEnv).db, ":memory:");
    assert.equal(
      loadConfig([], envOf({ CHAT_DB: "/tmp/x.db" })).db,
      "/tmp/x.db",
    );
  });

  await t.step("every setting defaults to its declaration's default", () => {
    const config = defaultConfig();
    for (const { key, setting } of settingList()) {
      // Three defaults are derived: from other settings or the machine.
      const expected = key === "presenceTtlMs"
        ? 3 * SETTINGS.presenceHeartbeatMs.default
        : key === "allowedHosts"
        ? ["127.0.0.1", "localhost", "::1"] // the default host, loopback
        : key === "maxConnections"
        ? 10_000 // auto, with the open-file limit unknown
        : key === "maxConnectionsPerIp"
        ? 2_000 // auto: a fifth of the above
        : key === "addressRateLimit"
        ? 200 // auto: 40 senders at the default rate
        : key === "addressRateBurst"
        ? 1_000 // auto: 100 senders' bursts
        : setting.default;
      assert.deepEqual(config[key], expected, key);
    }
  });

  await t.step("an empty or blank variable counts as not set", () => {
    const env = envOf({ PORT: "", CHAT_DB: "  ", LOG_LEVEL: "" });
    assert.deepEqual(loadConfig([], env), defaultConfig());
  });
});

Deno.test("a setting is read from its flag or its variable", async (t) => {
  await t.step("PORT and HOST are read, and --port and --host win", () => {
    const env = envOf({ PORT: "9001", HOST: "192.0.2.10" });
    assert.equal(loadConfig([], env).port, 9001);
    assert.equal(loadConfig([], env).host, "192.0.2.10");
    assert.equal(loadConfig(["--port", "9002"], env).port, 9002);
    assert.equal(loadConfig(["--port=9003"], env).port, 9003);
    assert.equal(loadConfig(["--host", "::1"], env).host, "::1");
  });

  await t.step(
    "a flag wins over its variable, which wins over the default",
    async (t) => {
      const cases: {
        kind: string;
        key: SettingKey;
        env: string;
        flag: string[];
        fromEnv: unknown;
        fromFlag: unknown;
      }[] = [
        {
          kind: "integer",
          key: "rateLimit",
          env: "20",
          flag: ["--rate-limit", "30"],
          fromEnv: 20,
          fromFlag: 30,
        },
        {
          kind: "host",
          key: "host",
          env: "192.0.2.10",
          flag: ["--host", "localhost"],
          fromEnv: "192.0.2.10",
          fromFlag: "localhost",
        },
        {
          kind: "boolean, turned off by --no-",
          key: "requireOrigin",
          env: "true",
          flag: ["--no-require-origin"],
          fromEnv: true,
          fromFlag: false,
        },
        {
          kind: "boolean, turned on by the bare flag",
          key: "requireOrigin",
          env: "0",
          flag: ["--require-origin"],
          fromEnv: false,
          fromFlag: true,
        },
        {
          kind: "list of origins",
          key: "allowedOrigins",
          env: "https://a.example,https://b.example",
          flag: ["--allowed-origins", "*"],
          fromEnv: ["https://a.example", "https://b.example"],
          fromFlag: ["*"],
        },
        {
          kind: "choice",
          key: "logLevel",
          env: "warn",
          flag: ["--log-level", "error"],
          fromEnv: "warn",
          fromFlag: "error",
        },
      ];
      for (const { kind, key, env, flag, fromEnv, fromFlag } of cases) {
        await t.step(kind, () => {
          const variable = envOf({ [SETTINGS[key].env]: env });
          assert.deepEqual(loadConfig([], noEnv)[key], SETTINGS[key].default);
          assert.deepEqual(loadConfig([], variable)[key], fromEnv);
          assert.deepEqual(loadConfig(flag, variable)[key], fromFlag);
          assert.deepEqual(loadConfig(flag, noEnv)[key], fromFlag);
        });
      }
    },
  );

  await t.step(
    "every declared setting is reachable by its flag and by its variable",
    () => {
      for (const { key, setting } of settingList()) {
        const { text, value } = SAMPLES[key];
        assert.notDeepEqual(
          value,
          defaultConfig()[key],
          `${key}: not a default`,
        );
        const args = setting.type === "boolean"
          ? [value ? `--${setting.flag}` : `--no-${setting.flag}`]
          : [`--${setting.flag}`, text];
        const companions = COMPANIONS[key] ?? {};
        assert.deepEqual(
          loadConfig(args, envOf(companions), ONE_CPU)[key],
          value,
          args.join(" "),
        );
        assert.deepEqual(
          loadConfig(
            [],
            envOf({ ...companions, [setting.env]: text }),
            ONE_CPU,
          )[key],
          value,
          setting.env,
        );
      }
    },
  );
});

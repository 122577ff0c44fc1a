import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import {
  ConfigError,
  defaultConfig,
  loadConfig,
  parseCommandLine,
  type SettingKey,
  settingList,
} from "../server/settings.ts";
import { SETTINGS } from "../server/setting_declarations.ts";
import { parseHost } from "../server/setting_parsers.ts";
import {
  GENERATED_TABLES,
  helpText,
  tableBetweenMarkers,
} from "../server/settings_docs.ts";

const noEnv = () => undefined;
const envOf = (vars: Record<string, string>) => (name: string) => vars[name];
const ONE_CPU = { cpus: 1 };

/** Asserts that `work` throws a ConfigError whose message matches every pattern. */
function assertRefused(work: () => unknown, ...patterns: (RegExp | string)[]) {
  assert.throws(work, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    for (const pattern of patterns) {
      if (typeof pattern === "string") {
        assert.ok(
          error.message.includes(pattern),
          `${JSON.stringify(error.message)} does not include ${
            JSON.stringify(pattern)
          }`,
        );
      } else {
        assert.match(error.message, pattern);
      }
    }
    return true;
  });
}

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
  allowedHosts: {
    text: "Chat.Example, .example.org",
    value: ["chat.example", ".example.org"],
  },
  reservedNames: { text: "root, ｓｙｓｏｐ", value: ["root", "sysop"] },
  repairIntervalMs: { text: "250", value: 250 },
  presenceHeartbeatMs: { text: "1000", value: 1000 },
  presenceListMax: { text: "25", value: 25 },
  presenceTtlMs: { text: "20000", value: 20000 },
  webhookUrls: {
    text: "https://site.example/hooks, http://10.0.0.5:8080/events",
    value: ["https://site.example/hooks", "http://10.0.0.5:8080/events"],
  },
  webhookSecrets: {
    text:
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=",
    value: [
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=",
    ],
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
  webhookUrls: {
    CHAT_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  },
};

/** A value every setting refuses, by flag (when it takes one) and variable. */
const REFUSED: Record<SettingKey, string> = {
  port: "65536",
  host: "http://x",
  workers: "0",
  db: " ",
  redisUrl: "http://cache.example:6379",
  logLevel: "loud",
  historyLimit: "-1",
  historyMax: "0",
  historyMaxAgeMs: "12", // a duration needs its unit
  maxRooms: "0",
  maxDbBytes: "1024",
  recoveryLimit: "1.5",
  maxMessageChars: "many",
  maxFrameBytes: "63",
  rateLimit: "1e3",
  rateBurst: "0",
  addressRateLimit: "-1",
  addressRateBurst: "0",
  connectRate: "-5",
  connectBurst: "0",
  maxConnectionsPerIp: "",
  maxConnections: "10000001",
  maxBufferedBytes: "1023",
  idleTimeoutS: "86401",
  allowedOrigins: "https://chat.example/path",
  trustedProxies: "proxy.example", // a proxy is known by its address
  requireOrigin: "maybe",
  auth: "sometimes",
  authSecret: "",
  authPublicKey: " ",
  authIssuer: " ",
  authAudience: " ",
  apiKey: "too-short",
  allowedHosts: "http://chat.example",
  reservedNames: "ok,bad\u200Bname",
  repairIntervalMs: "9",
  presenceHeartbeatMs: "49",
  presenceListMax: "0",
  presenceTtlMs: "99",
  webhookUrls: "ftp://site.example/hooks",
  webhookSecrets: "whsec_a, whsec_b, whsec_c",
  webhookTimeoutMs: "99",
  webhookRetryBaseMs: "0",
  webhookRetryMaxMs: "86400001",
  webhookMaxEvents: "0",
  webhookMaxAgeMs: "24", // a duration needs its unit
};

Deno.test("settings", async (t) => {
  await t.step("by default the server listens on 127.0.0.1:8000", () => {
    const config = loadConfig([], noEnv);
    assert.equal(config.port, 8000);
    assert.equal(config.host, "127.0.0.1");
  });

  await t.step("PORT and HOST are read, and --port and --host win", () => {
    const env = envOf({ PORT: "9001", HOST: "192.0.2.10" });
    assert.equal(loadConfig([], env).port, 9001);
    assert.equal(loadConfig([], env).host, "192.0.2.10");
    assert.equal(loadConfig(["--port", "9002"], env).port, 9002);
    assert.equal(loadConfig(["--port=9003"], env).port, 9003);
    assert.equal(loadConfig(["--host", "::1"], env).host, "::1");
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

  await t.step(
    "a bad value names the flag or variable, quotes the value and says what is allowed",
    () => {
      for (const { key, setting } of settingList()) {
        const text = REFUSED[key];
        const quoted = setting.secret
          ? "something else (not shown: it may hold a password)"
          : JSON.stringify(text);
        if (setting.type === "string") {
          assertRefused(
            // `--flag=value`: a value that starts with "-" cannot follow a space.
            () => loadConfig([`--${setting.flag}=${text}`], noEnv),
            `--${setting.flag} must be ${setting.allowed}, got ${quoted}`,
          );
        }
        if (text.trim() !== "") {
          assertRefused(
            () => loadConfig([], envOf({ [setting.env]: text })),
            `${setting.env} must be ${setting.allowed}, got ${quoted}`,
          );
        }
      }
    },
  );

  await t.step(
    "a bad Redis URL is never repeated: it may hold a password",
    () => {
      for (const args of [["--redis=redis//:hunter2@cache:6379"], []]) {
        const env = envOf({ REDIS_URL: "http://:hunter2@cache:6379" });
        try {
          loadConfig(args, env);
          assert.fail("a bad Redis URL was accepted");
        } catch (error) {
          assert.ok(error instanceof ConfigError);
          assert.ok(!error.message.includes("hunter2"), error.message);
          assert.match(error.message, /^(--redis|REDIS_URL) must be/);
        }
      }
    },
  );

  await t.step(
    "a webhook URL needs a secret, and a bad secret is refused unshown",
    () => {
      assertRefused(
        () =>
          loadConfig(["--webhook-url", "https://site.example/hooks"], noEnv),
        "CHAT_WEBHOOK_URL needs CHAT_WEBHOOK_SECRET",
      );
      try {
        loadConfig([], envOf({ CHAT_WEBHOOK_SECRET: "whsec_not base64!" }));
        assert.fail("a bad secret was accepted");
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        assert.ok(!error.message.includes("not base64"), error.message);
        assert.match(error.message, /^CHAT_WEBHOOK_SECRET must be/);
      }
      const config = loadConfig([], noEnv);
      assert.deepEqual(config.webhookUrls, []);
      assert.equal(config.webhookMaxEvents, 100_000);
      assert.equal(config.webhookMaxAgeMs, 24 * 3_600_000);
      assert.equal(config.webhookTimeoutMs, 10_000);
    },
  );

  await t.step("signed identities need exactly one usable key", () => {
    assertRefused(
      () => loadConfig(["--auth", "required"], noEnv),
      "CHAT_AUTH=required needs CHAT_AUTH_SECRET or CHAT_AUTH_PUBLIC_KEY",
    );
    assertRefused(
      () => loadConfig([], envOf({ CHAT_AUTH_SECRET: "short-secret" })),
      "CHAT_AUTH_SECRET must be at least 32 bytes",
    );
    assertRefused(
      () =>
        loadConfig(
          [],
          envOf({
            CHAT_AUTH_SECRET: "s".repeat(32),
            CHAT_AUTH_PUBLIC_KEY: "/k.pem",
          }),
        ),
      "not both",
    );
    try {
      loadConfig([], envOf({ CHAT_AUTH_SECRET: "short-secret" }));
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.ok(!error.message.includes("short-secret"));
    }
  });

  await t.step("a switch refuses a value after =", () => {
    assertRefused(
      () => loadConfig(["--require-origin=maybe"], noEnv),
      "--require-origin",
      "see --help",
    );
  });

  await t.step("an unknown flag is refused, by name", () => {
    assertRefused(() => loadConfig(["--nope"], noEnv), "'--nope'", "--help");
    assertRefused(() => loadConfig(["-x"], noEnv), "'-x'");
  });

  await t.step(
    "a value after a space that starts with a dash is refused in one line",
    () => {
      assertRefused(
        () => loadConfig(["--port", "-1"], noEnv),
        "'--port'",
        "--port=-XYZ",
        /^[^\n]*$/,
      );
    },
  );

  await t.step("a positional argument is refused, by its text", () => {
    assertRefused(() => loadConfig(["extra"], noEnv), "'extra'");
    assertRefused(() => loadConfig(["--port", "1", "2"], noEnv), "'2'");
  });

  await t.step("--help, -h and --version are commands, not settings", () => {
    assert.deepEqual(parseCommandLine(["--help"], noEnv), { kind: "help" });
    assert.deepEqual(parseCommandLine(["-h"], noEnv), { kind: "help" });
    assert.deepEqual(parseCommandLine(["--version"], noEnv), {
      kind: "version",
    });
    const serve = parseCommandLine([], noEnv, ONE_CPU);
    assert.equal(serve.kind, "serve");
    assertRefused(() => loadConfig(["--help"], noEnv), "--help");
  });

  await t.step("parseHost accepts addresses and host names", () => {
    const accepted: [string, string][] = [
      ["127.0.0.1", "127.0.0.1"],
      ["::1", "::1"],
      ["[::1]", "::1"],
      ["0.0.0.0", "0.0.0.0"],
      ["::", "::"],
      ["[0:0:0:0:0:0:0:1]", "::1"],
      ["localhost", "localhost"],
      ["chat.example.com", "chat.example.com"],
      ["Chat.Example.COM", "chat.example.com"],
    ];
    for (const [text, host] of accepted) {
      assert.equal(parseHost(text), host, text);
    }
  });

  await t.step("parseHost refuses what is not an address or a name", () => {
    for (
      const text of [
        "http://x",
        "1.2.3",
        "256.1.1.1",
        "a b",
        "",
        " ",
        "[::1",
        "::g",
        "-chat.example",
      ]
    ) {
      assert.equal(parseHost(text), undefined, JSON.stringify(text));
    }
  });

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

  await t.step(
    "--help names every flag and variable with its shown default",
    () => {
      const help = helpText();
      for (const { setting } of settingList()) {
        assert.ok(help.includes(`--${setting.flag}`), setting.flag);
        assert.ok(
          help.includes(
            `Variable ${setting.env}; default ${setting.shownDefault}; ${setting.allowed}.`,
          ),
          setting.env,
        );
        if (setting.type === "boolean") {
          assert.ok(help.includes(`--no-${setting.flag}`), setting.flag);
        }
      }
      assert.match(help, /--help/);
      assert.match(help, /--version/);
    },
  );

  await t.step(
    "the README and docs/security.md tables match the declarations cell for cell",
    async () => {
      for (const { file, name, rows } of GENERATED_TABLES) {
        const text = await Deno.readTextFile(
          new URL(`../${file}`, import.meta.url),
        );
        assert.deepEqual(
          tableBetweenMarkers(text, name),
          rows(),
          `${file} is out of date: run deno task docs`,
        );
      }
    },
  );

  await t.step(
    "the compile task's --allow-env list permits every declared variable",
    () => {
      const allowEnv = denoJson.tasks.compile.split(" ")
        .find((word) => word.startsWith("--allow-env="));
      assert.ok(allowEnv, "the compile task has an --allow-env list");
      const entries = allowEnv.slice("--allow-env=".length).split(",");
      const permits = (name: string) =>
        entries.some((entry) =>
          entry.endsWith("*")
            ? name.startsWith(entry.slice(0, -1))
            : name === entry
        );
      for (const { setting } of settingList()) {
        assert.ok(
          permits(setting.env),
          `the binary cannot read ${setting.env}`,
        );
      }
    },
  );
});

import assert from "node:assert/strict";
import {
  ConfigError,
  loadConfig,
  parseCommandLine,
  type SettingKey,
  settingList,
} from "../server/settings.ts";
import { parseHost } from "../server/setting_parsers.ts";
import { assertRefused, envOf, noEnv, ONE_CPU } from "../testkit/settings.ts";
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
  editWindowS: "-1",
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
  frameAncestors: "*", // any site could frame the pages under its buttons
  trustedProxies: "proxy.example", // a proxy is known by its address
  requireOrigin: "maybe",
  auth: "sometimes",
  authSecret: "",
  authPublicKey: " ",
  authIssuer: " ",
  authAudience: " ",
  apiKey: "too-short",
  adminSessionSecret: "shorter-than-32-characters",
  allowedHosts: "http://chat.example",
  reservedNames: "ok,bad\u200Bname",
  repairIntervalMs: "9",
  presenceHeartbeatMs: "49",
  presenceListMax: "0",
  presenceTtlMs: "99",
  webhookSecrets: "whsec_not base64!",
  publishHookUrl: "https://user:pass@site.example/hook",
  publishHookTimeoutMs: "9",
  publishHookFailure: "drop",
  webhookUrls: "ftp://site.example/hooks",
  webhookTimeoutMs: "99",
  webhookRetryBaseMs: "0",
  webhookRetryMaxMs: "86400001",
  webhookMaxEvents: "0",
  webhookMaxAgeMs: "24", // a duration needs its unit
};

Deno.test("a bad setting is refused, saying what was wrong", async (t) => {
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
});

Deno.test("the command line", async (t) => {
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
});

Deno.test("parseHost", async (t) => {
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
});

Deno.test("frame ancestors are origins, 'none' or nothing", async (t) => {
  await t.step("'none', as CSP writes it or bare, frames nothing", () => {
    for (const text of ["'none'", "none", " 'NONE' "]) {
      const config = loadConfig([], envOf({ CHAT_FRAME_ANCESTORS: text }));
      assert.deepEqual(config.frameAncestors, [], text);
    }
    assert.deepEqual(loadConfig([], noEnv).frameAncestors, []);
  });

  await t.step("origins are kept in their canonical form", () => {
    const config = loadConfig(
      ["--frame-ancestors", "HTTPS://Site.Example:443, http://127.0.0.2:8080"],
      noEnv,
    );
    assert.deepEqual(config.frameAncestors, [
      "https://site.example",
      "http://127.0.0.2:8080",
    ]);
  });

  await t.step("a path, a wildcard or a non-URL is refused", () => {
    for (
      const text of [
        "https://site.example/embed",
        "*",
        "site.example",
        "'self'",
      ]
    ) {
      assert.throws(
        () => loadConfig(["--frame-ancestors", text], noEnv),
        ConfigError,
        text,
      );
    }
  });
});

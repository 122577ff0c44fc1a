/**
 * Configuration, read in one place: command-line flags first, then
 * environment variables, then defaults. Every other module receives a
 * {@linkcode Config} and reads neither `Deno.args` nor `Deno.env`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { isLogLevel, type LogLevel } from "./log.ts";

/** Everything the server can be told at start. */
export interface Config {
  /** TCP port. Flag `--port`, env `PORT`. @default 8000 */
  readonly port: number;
  /** Interface to listen on. Flag `--host`, env `HOST`. @default "127.0.0.1" */
  readonly host: string;
  /** Lowest log level printed. Env `LOG_LEVEL`. @default "info" */
  readonly logLevel: LogLevel;
  /** Longest chat message in characters. Env `CHAT_MAX_MESSAGE_CHARS`. @default 2000 */
  readonly maxMessageChars: number;
  /** SQLite file, or `:memory:`. Flag `--db`, env `CHAT_DB`. @default "./data/chat.db" */
  readonly db: string;
  /** Messages kept per room. Env `CHAT_HISTORY_MAX`. @default 10000 */
  readonly historyMax: number;
  /** Messages sent on a fresh connection. Env `CHAT_HISTORY`. @default 50 */
  readonly historyLimit: number;
  /** Largest `since` gap recovered exactly. Env `CHAT_RECOVERY_MAX`. @default 1000 */
  readonly recoveryLimit: number;
  /** Presence refresh period. Env `CHAT_PRESENCE_HEARTBEAT_MS`. @default 5000 */
  readonly presenceHeartbeatMs: number;
  /** Presence of a silent node expires after. Env `CHAT_PRESENCE_TTL_MS`. @default 15000 */
  readonly presenceTtlMs: number;
  /** How often rooms check the store for missed messages. Env `CHAT_REPAIR_INTERVAL_MS`. @default 1000 */
  readonly repairIntervalMs: number;
  /** Largest WebSocket frame in UTF-8 bytes; larger closes with 1009. Env `CHAT_MAX_FRAME_BYTES`. @default 16384 */
  readonly maxFrameBytes: number;
  /** Messages per second per connection; 0 turns the limit off. Env `CHAT_RATE_LIMIT`. @default 5 */
  readonly rateLimit: number;
  /** Messages a connection may send at once before the rate applies. Env `CHAT_RATE_BURST`. @default 10 */
  readonly rateBurst: number;
  /** Open sockets per client IP, per isolate. Env `CHAT_MAX_CONNECTIONS_PER_IP`. @default 50 */
  readonly maxConnectionsPerIp: number;
  /** Open sockets in total, per isolate. Env `CHAT_MAX_CONNECTIONS`. @default 10000 */
  readonly maxConnections: number;
  /** Unsent bytes after which a client is cut off. Env `CHAT_MAX_BUFFERED_BYTES`. @default 1048576 */
  readonly maxBufferedBytes: number;
  /** Seconds without a pong before a socket is closed. Env `CHAT_IDLE_TIMEOUT_S`. @default 30 */
  readonly idleTimeoutS: number;
  /** Origins allowed besides the page's own (`*` allows all). Env `ALLOWED_ORIGINS`, comma separated. @default [] */
  readonly allowedOrigins: readonly string[];
  /** Refuse upgrades without an Origin header. Env `CHAT_REQUIRE_ORIGIN=1`. @default false */
  readonly requireOrigin: boolean;
}

/** A flag or variable had a value the server cannot use. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads an environment variable; `Deno.env.get` in production. */
export type EnvLookup = (name: string) => string | undefined;

function parseInteger(
  value: string,
  source: string,
  min: number,
  max: number,
): number {
  const trimmed = value.trim();
  const number = Number(trimmed);
  if (trimmed === "" || !Number.isInteger(number)) {
    throw new ConfigError(
      `${source} must be a whole number, got ${JSON.stringify(value)}`,
    );
  }
  if (number < min || number > max) {
    throw new ConfigError(
      `${source} must be between ${min} and ${max}, got ${number}`,
    );
  }
  return number;
}

/** Parses flags and environment into a {@linkcode Config}. */
export function loadConfig(args: readonly string[], env: EnvLookup): Config {
  let flags;
  try {
    flags = parseArgs({
      args: [...args],
      options: {
        port: { type: "string" },
        host: { type: "string" },
        db: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    if (error instanceof TypeError) throw new ConfigError(error.message);
    throw error;
  }

  const portText = flags.port ?? env("PORT");
  const port = portText === undefined
    ? 8000
    : parseInteger(portText, flags.port ? "--port" : "PORT", 0, 65535);

  const host = (flags.host ?? env("HOST") ?? "127.0.0.1").trim();
  if (host === "") throw new ConfigError("HOST must not be empty");

  const logLevelText = env("LOG_LEVEL")?.trim().toLowerCase() ?? "info";
  if (!isLogLevel(logLevelText)) {
    throw new ConfigError(
      `LOG_LEVEL must be one of debug, info, warn, error; got ${
        JSON.stringify(logLevelText)
      }`,
    );
  }

  const integer = (
    name: string,
    fallback: number,
    min: number,
    max: number,
  ) => {
    const text = env(name);
    return text === undefined ? fallback : parseInteger(text, name, min, max);
  };

  const db = (flags.db ?? env("CHAT_DB") ?? "./data/chat.db").trim();
  if (db === "") throw new ConfigError("CHAT_DB must not be empty");

  const presenceHeartbeatMs = integer(
    "CHAT_PRESENCE_HEARTBEAT_MS",
    5000,
    50,
    3_600_000,
  );
  const presenceTtlMs = integer(
    "CHAT_PRESENCE_TTL_MS",
    3 * presenceHeartbeatMs,
    100,
    86_400_000,
  );
  if (presenceTtlMs <= presenceHeartbeatMs) {
    throw new ConfigError(
      `CHAT_PRESENCE_TTL_MS (${presenceTtlMs}) must be longer than CHAT_PRESENCE_HEARTBEAT_MS (${presenceHeartbeatMs})`,
    );
  }

  return {
    port,
    host,
    logLevel: logLevelText,
    maxMessageChars: integer("CHAT_MAX_MESSAGE_CHARS", 2000, 1, 1_000_000),
    db,
    historyMax: integer("CHAT_HISTORY_MAX", 10_000, 1, 100_000_000),
    historyLimit: integer("CHAT_HISTORY", 50, 0, 10_000),
    recoveryLimit: integer("CHAT_RECOVERY_MAX", 1000, 0, 100_000),
    presenceHeartbeatMs,
    presenceTtlMs,
    repairIntervalMs: integer("CHAT_REPAIR_INTERVAL_MS", 1000, 10, 3_600_000),
    maxFrameBytes: integer(
      "CHAT_MAX_FRAME_BYTES",
      16_384,
      64,
      64 * 1024 * 1024,
    ),
    rateLimit: integer("CHAT_RATE_LIMIT", 5, 0, 1_000_000),
    rateBurst: integer("CHAT_RATE_BURST", 10, 1, 1_000_000),
    maxConnectionsPerIp: integer(
      "CHAT_MAX_CONNECTIONS_PER_IP",
      50,
      1,
      1_000_000,
    ),
    maxConnections: integer("CHAT_MAX_CONNECTIONS", 10_000, 1, 10_000_000),
    maxBufferedBytes: integer(
      "CHAT_MAX_BUFFERED_BYTES",
      1024 * 1024,
      1024,
      1024 * 1024 * 1024,
    ),
    idleTimeoutS: integer("CHAT_IDLE_TIMEOUT_S", 30, 1, 86_400),
    allowedOrigins: parseOrigins(env("ALLOWED_ORIGINS") ?? ""),
    requireOrigin: parseFlag(env("CHAT_REQUIRE_ORIGIN"), "CHAT_REQUIRE_ORIGIN"),
  };
}

function parseFlag(value: string | undefined, name: string): boolean {
  const text = value?.trim().toLowerCase() ?? "";
  if (["", "0", "false", "no"].includes(text)) return false;
  if (["1", "true", "yes"].includes(text)) return true;
  throw new ConfigError(
    `${name} must be 1 or 0 (true or false), got ${JSON.stringify(value)}`,
  );
}

/** Parses `ALLOWED_ORIGINS` into normalised origins, or `*`. */
function parseOrigins(text: string): string[] {
  const origins: string[] = [];
  for (const part of text.split(",")) {
    const item = part.trim();
    if (item === "") continue;
    if (item === "*") {
      origins.push("*");
      continue;
    }
    let url: URL;
    try {
      url = new URL(item);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      throw new ConfigError(
        `ALLOWED_ORIGINS has ${
          JSON.stringify(item)
        }, which is not an origin like https://chat.example`,
      );
    }
    if (
      url.origin === "null" || url.pathname !== "/" || url.search || url.hash
    ) {
      throw new ConfigError(
        `ALLOWED_ORIGINS has ${
          JSON.stringify(item)
        }, which is not an origin like https://chat.example`,
      );
    }
    origins.push(url.origin);
  }
  return origins;
}

/** The `DENO_SERVE_ADDRESS` value that makes `deno serve` use this config. */
export function denoServeAddress(config: Config): string {
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return `tcp:${host}:${config.port}`;
}

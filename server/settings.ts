/**
 * The server's configuration, resolved from the command line and the
 * environment by the declarations in `server/setting_declarations.ts`:
 * flags win over environment variables, which win over defaults; then the
 * defaults that depend on other settings (`auto`, the presence TTL, the
 * allowed hosts) are worked out and the settings are checked against each
 * other. Every other module receives a {@linkcode Config} and reads neither
 * `Deno.args` nor `Deno.env`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { MIN_SECRET_BYTES } from "../chat/identity.ts";
import { SETTINGS } from "./setting_declarations.ts";
import { isLoopback, type Setting } from "./setting_parsers.ts";

/** A flag or variable had a value the server cannot use. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The name of a declared setting. */
export type SettingKey = keyof typeof SETTINGS;

type ValueOf<S> = S extends Setting<infer T> ? T : never;

/** Each setting's value as parsed, before defaults that depend on others. */
type RawValues = { readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

/**
 * The settings whose value is worked out at start from other settings or
 * from the machine, with the type they have then.
 */
interface Resolved {
  /** Host names requests may carry; the default resolved from `host`. */
  readonly allowedHosts: readonly string[];
  /** Isolates serving the port; `auto` resolved to the CPU count. */
  readonly workers: number;
  /** Sockets per process; `auto` resolved from the open-file limit. */
  readonly maxConnections: number;
  /** Sockets per address and process; `auto` resolved from the total. */
  readonly maxConnectionsPerIp: number;
  /** Messages per second per address; `auto` resolved from the sender's. */
  readonly addressRateLimit: number;
  /** Burst per address; `auto` resolved from the sender's. */
  readonly addressRateBurst: number;
  /** Presence TTL; its default resolved from the heartbeat. */
  readonly presenceTtlMs: number;
}

/** Everything the server can be told at start, resolved. */
export interface Config extends Omit<RawValues, keyof Resolved>, Resolved {}

/** Reads an environment variable; `Deno.env.get` in production. */
export type EnvLookup = (name: string) => string | undefined;

/** What the command line asked for besides settings. */
export type Command =
  | { readonly kind: "serve"; readonly config: Config }
  | { readonly kind: "help" }
  | { readonly kind: "version" };

/** What {@linkcode parseCommandLine} needs from the machine. */
export interface MachineFacts {
  /** CPUs, for `--workers auto`. */
  readonly cpus: number;
  /**
   * The process's open-file limit, for `--max-connections auto`; unknown
   * where it cannot be read.
   */
  readonly openFileLimit?: number;
}

/** Descriptors kept for everything but sockets: files, pipes, the store. */
const FILE_RESERVE = 256;
/** The most sockets `auto` allows, whatever the open-file limit. */
const AUTO_MAX_CONNECTIONS = 10_000;

/**
 * The share of the connections one address may hold by default: enough for
 * an office behind one NAT, never the whole server.
 */
const AUTO_PER_IP_SHARE = 5;

/**
 * How many senders at full speed one address's message budget stands for
 * by default: 200 messages a second, bursts of 1 000, with the defaults.
 */
const AUTO_ADDRESS_RATE_SENDERS = 40;
const AUTO_ADDRESS_BURST_SENDERS = 100;

/** The per-address limit `auto` stands for, given the total. */
export function autoMaxConnectionsPerIp(maxConnections: number): number {
  return Math.max(1, Math.floor(maxConnections / AUTO_PER_IP_SHARE));
}

/** The connection limit `auto` stands for, given the open-file limit. */
export function autoMaxConnections(openFileLimit: number | undefined): number {
  if (openFileLimit === undefined) return AUTO_MAX_CONNECTIONS;
  const usable = Math.floor((openFileLimit - FILE_RESERVE) * 0.8);
  return Math.max(16, Math.min(AUTO_MAX_CONNECTIONS, usable));
}

const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[]; // the declared keys

/** The declarations as a list, in declaration order. */
export function settingList(): {
  key: SettingKey;
  setting: Setting<unknown>;
}[] {
  return SETTING_KEYS.map((key) => ({ key, setting: SETTINGS[key] }));
}

function describeFailure(
  source: string,
  setting: Setting<unknown>,
  text: string,
): ConfigError {
  const got = setting.secret === true
    ? "got something else (not shown: it may hold a password)"
    : `got ${JSON.stringify(text)}`;
  return new ConfigError(`${source} must be ${setting.allowed}, ${got}`);
}

/**
 * Parses the command line and the environment: `--help` and `--version`,
 * or every setting. Throws {@linkcode ConfigError} naming the flag or
 * variable, the value and what is allowed.
 */
export function parseCommandLine(
  args: readonly string[],
  env: EnvLookup,
  machine: MachineFacts = { cpus: navigator.hardwareConcurrency },
): Command {
  const options: Record<string, { type: "boolean" | "string" }> = {
    help: { type: "boolean" },
    version: { type: "boolean" },
  };
  for (const { setting } of settingList()) {
    options[setting.flag] = { type: setting.type };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...args],
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
      allowNegative: true,
    }).values;
  } catch (error) {
    if (error instanceof TypeError) {
      // node:util spreads some messages over lines; the user gets one line.
      const message = error.message.replace(/\s*\n\s*/g, " ");
      throw new ConfigError(`${message}; see --help`);
    }
    throw error;
  }
  if (values.help === true) return { kind: "help" };
  if (values.version === true) return { kind: "version" };
  return { kind: "serve", config: resolveSettings(values, env, machine) };
}

/** Parses settings alone (no `--help`), for tests and embedders. */
export function loadConfig(
  args: readonly string[],
  env: EnvLookup,
  machine?: MachineFacts,
): Config {
  const command = parseCommandLine(args, env, machine);
  if (command.kind !== "serve") {
    throw new ConfigError(`--${command.kind} is not a setting`);
  }
  return command.config;
}

function resolveSettings(
  flags: Record<string, string | boolean | undefined>,
  env: EnvLookup,
  machine: MachineFacts,
): Config {
  const raw: Record<string, unknown> = {};
  for (const { key, setting } of settingList()) {
    const given = flags[setting.flag];
    const fromEnv = env(setting.env);
    let value: unknown = setting.default;
    if (typeof given === "boolean") {
      value = given;
    } else if (given !== undefined) {
      const parsed = setting.parse(given);
      if (!parsed.ok) {
        throw describeFailure(`--${setting.flag}`, setting, given);
      }
      value = parsed.value;
    } else if (fromEnv !== undefined && fromEnv.trim() !== "") {
      const parsed = setting.parse(fromEnv);
      if (!parsed.ok) throw describeFailure(setting.env, setting, fromEnv);
      value = parsed.value;
    }
    raw[key] = value;
  }
  return finish(raw, machine);
}

/** Applies the defaults that depend on other settings, and cross-checks. */
function finish(raw: Record<string, unknown>, machine: MachineFacts): Config {
  // Every key was filled by resolveSettings from its own declaration.
  const values = raw as RawValues;
  const heartbeat = values.presenceHeartbeatMs;
  const ttlSetting = values.presenceTtlMs;
  const presenceTtlMs = ttlSetting === "3x-heartbeat"
    ? 3 * heartbeat
    : ttlSetting;
  if (presenceTtlMs <= heartbeat) {
    throw new ConfigError(
      `CHAT_PRESENCE_TTL_MS (${presenceTtlMs}) must be longer than CHAT_PRESENCE_HEARTBEAT_MS (${heartbeat})`,
    );
  }
  const workersSetting = values.workers;
  const workers = workersSetting === "auto"
    ? Math.max(1, Math.min(256, machine.cpus))
    : workersSetting;
  const db = values.db;
  const redisUrl = values.redisUrl;
  if (workers > 1 && db === ":memory:" && redisUrl === undefined) {
    throw new ConfigError(
      `--workers ${workers} needs a database file the workers share; :memory: would give each worker its own (give --db a file)`,
    );
  }
  const host = values.host;
  const hostsSetting = values.allowedHosts;
  let allowedHosts: readonly string[];
  if (hostsSetting !== "listen-address") {
    allowedHosts = hostsSetting;
  } else if (host === "0.0.0.0" || host === "::") {
    throw new ConfigError(
      `listening on every interface (--host ${host}) needs CHAT_ALLOWED_HOSTS (--allowed-hosts): the host names clients will use, or * to allow any`,
    );
  } else {
    allowedHosts = isLoopback(host)
      ? [...new Set([host, "localhost", "127.0.0.1", "::1"])]
      : [host];
  }
  const auth = values.auth;
  const authSecret = values.authSecret;
  const authPublicKey = values.authPublicKey;
  if (authSecret !== undefined && authPublicKey !== undefined) {
    throw new ConfigError(
      "give CHAT_AUTH_SECRET or CHAT_AUTH_PUBLIC_KEY, not both",
    );
  }
  if (
    authSecret !== undefined &&
    new TextEncoder().encode(authSecret).byteLength < MIN_SECRET_BYTES
  ) {
    throw new ConfigError(
      `CHAT_AUTH_SECRET must be at least ${MIN_SECRET_BYTES} bytes (HS256); generate one with: openssl rand -hex 32`,
    );
  }
  if (
    auth !== "off" && authSecret === undefined && authPublicKey === undefined
  ) {
    throw new ConfigError(
      `CHAT_AUTH=${auth} needs CHAT_AUTH_SECRET or CHAT_AUTH_PUBLIC_KEY to check tokens with`,
    );
  }
  if (values.publishHookUrl !== undefined && !values.webhookSecrets) {
    throw new ConfigError(
      "CHAT_PUBLISH_HOOK_URL needs CHAT_WEBHOOK_SECRET to sign its requests with",
    );
  }
  if (values.webhookUrls.length > 0 && values.webhookSecrets === undefined) {
    throw new ConfigError(
      "CHAT_WEBHOOK_URL needs CHAT_WEBHOOK_SECRET (whsec_ and a base64 key) to sign events with",
    );
  }
  const maxConnectionsSetting = values.maxConnections;
  const maxConnections = maxConnectionsSetting === "auto"
    ? autoMaxConnections(machine.openFileLimit)
    : maxConnectionsSetting;
  const maxConnectionsPerIp = values.maxConnectionsPerIp;
  const addressRateLimit = values.addressRateLimit;
  const addressRateBurst = values.addressRateBurst;
  const resolved: Resolved = {
    allowedHosts,
    workers,
    maxConnections,
    maxConnectionsPerIp: maxConnectionsPerIp === "auto"
      ? autoMaxConnectionsPerIp(maxConnections)
      : maxConnectionsPerIp,
    addressRateLimit: addressRateLimit === "auto"
      ? AUTO_ADDRESS_RATE_SENDERS * values.rateLimit
      : addressRateLimit,
    addressRateBurst: addressRateBurst === "auto"
      ? AUTO_ADDRESS_BURST_SENDERS * values.rateBurst
      : addressRateBurst,
    presenceTtlMs,
  };
  // Every other setting is used as it was parsed.
  return { ...values, ...resolved };
}

/** The configuration with every default, for tests and tools. */
export function defaultConfig(): Config {
  return loadConfig([], () => undefined, { cpus: 1 });
}

/**
 * Every setting of the server, declared once: its flag, its environment
 * variable, its default, what values it allows and one line of help. The
 * same declarations drive the command-line parser, `--help`, and the
 * settings tables in the README and docs/security.md (a test compares
 * them). Flags win over environment variables, which win over defaults.
 * Every other module receives a {@linkcode Config} and reads neither
 * `Deno.args` nor `Deno.env`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseRedisUrl } from "../adapters/redis/url.ts";
import { MIN_SECRET_BYTES } from "../chat/identity.ts";
import { parseUserName } from "../chat/user_name.ts";
import { isLogLevel, type LogLevel } from "../observability/log.ts";
import { parseTrustedProxies } from "../chat/address_range.ts";

/** A flag or variable had a value the server cannot use. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Where a setting is documented: the README lists all, security.md limits. */
export type SettingSection = "server" | "storage" | "limits" | "presence";

/** The result of parsing one value. */
type Parsed<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
};

/** One declared setting. */
export interface Setting<T> {
  /** The long flag without its dashes, e.g. `rate-limit`. */
  readonly flag: string;
  /** The environment variable, e.g. `CHAT_RATE_LIMIT`. */
  readonly env: string;
  /** One line for `--help` and the docs. */
  readonly help: string;
  readonly section: SettingSection;
  /** For limits: what a client gets past it (docs/security.md). */
  readonly whenExceeded?: string;
  /** Used when neither the flag nor the variable is given. */
  readonly default: T;
  /** The default as `--help` and the docs show it. */
  readonly shownDefault: string;
  /** What may be given, for `--help` and for errors ("a whole number from 0 to 65535"). */
  readonly allowed: string;
  /** A switch (`--require-origin`, `--no-require-origin`) or a value. */
  readonly type: "boolean" | "string";
  /** Holds credentials: a bad value is never repeated in an error. */
  readonly secret?: boolean;
  /** Turns the text of a flag or variable into a value. */
  parse(text: string): Parsed<T>;
}

type Common = Pick<
  Setting<unknown>,
  "flag" | "env" | "help" | "section" | "whenExceeded"
>;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad: Parsed<never> = { ok: false };

function parseWholeNumber(text: string, min: number, max: number) {
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) return bad;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) && value >= min && value <= max
    ? ok(value)
    : bad;
}

function integer(
  options: Common & { default: number; min: number; max: number },
): Setting<number> {
  const { min, max } = options;
  return {
    ...options,
    shownDefault: String(options.default),
    allowed: `a whole number from ${min} to ${max}`,
    type: "string",
    parse: (text) => parseWholeNumber(text, min, max),
  };
}

/** A whole number, or `auto` for a value the server works out. */
function integerOrAuto(
  options: Common & { min: number; max: number },
): Setting<number | "auto"> {
  const { min, max } = options;
  return {
    ...options,
    default: "auto",
    shownDefault: "auto",
    allowed: `a whole number from ${min} to ${max}, or auto`,
    type: "string",
    parse: (text) =>
      text.trim().toLowerCase() === "auto"
        ? ok("auto")
        : parseWholeNumber(text, min, max),
  };
}

function choice<T extends string>(
  options: Common & { default: T; values: readonly T[] },
): Setting<T> {
  return {
    ...options,
    shownDefault: options.default,
    allowed: `one of ${options.values.join(", ")}`,
    type: "string",
    parse(text) {
      const wanted = text.trim().toLowerCase();
      const value = options.values.find((item) => item === wanted);
      return value === undefined ? bad : ok(value);
    },
  };
}

function flag(options: Common & { default: boolean }): Setting<boolean> {
  return {
    ...options,
    shownDefault: options.default ? "on" : "off",
    allowed: "1 or 0 (true or false)",
    type: "boolean",
    parse(text) {
      const value = text.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(value)) return ok(true);
      if (["0", "false", "no", "off"].includes(value)) return ok(false);
      return bad;
    },
  };
}

/** Optional free text, such as a file path or a claim value. */
function optionalText(
  options: Omit<Common, "section"> & { allowed: string },
): Setting<string | undefined> {
  return {
    ...options,
    section: "server",
    default: undefined,
    shownDefault: "(none)",
    type: "string",
    parse: (text) => text.trim() === "" ? bad : ok(text.trim()),
  };
}

/**
 * A secret: never echoed in an error; the lower bound, when given, is
 * checked here so that a short one is refused at start.
 */
function secretText(
  options: Omit<Common, "section"> & { allowed: string; minLength?: number },
): Setting<string | undefined> {
  const { minLength = 1, ...rest } = options;
  return {
    ...rest,
    section: "server",
    default: undefined,
    shownDefault: "(none)",
    type: "string",
    secret: true,
    parse: (text) => text.length < minLength ? bad : ok(text),
  };
}

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV4 =
  /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * An interface address to listen on: IPv4, IPv6 (brackets optional; written
 * in its canonical form) or a host name such as `localhost`.
 */
export function parseHost(text: string): string | undefined {
  const trimmed = text.trim();
  const unbracketed = /^\[.*\]$/.test(trimmed) ? trimmed.slice(1, -1) : trimmed;
  if (unbracketed.includes(":")) {
    // An IPv6 address, checked and canonicalised by the URL parser.
    if (!/^[0-9a-f:.]+$/i.test(unbracketed)) return undefined;
    try {
      return new URL(`http://[${unbracketed}]/`).hostname.slice(1, -1);
    } catch (error) {
      if (error instanceof TypeError) return undefined;
      throw error;
    }
  }
  if (IPV4.test(unbracketed)) return unbracketed;
  // Dotted digits that are not an IPv4 address are not a host name either.
  if (/^[\d.]+$/.test(unbracketed)) return undefined;
  return HOST_NAME.test(unbracketed) ? unbracketed.toLowerCase() : undefined;
}

const DURATION_UNITS_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses `30d`, `12h`, `90m`, `45s` (or `0`) into milliseconds. */
function parseDuration(text: string): Parsed<number> {
  const found = text.trim().toLowerCase().match(/^(\d{1,9})\s*([smhd])?$/);
  if (!found?.[1]) return bad;
  const amount = Number(found[1]);
  if (amount === 0) return ok(0);
  const unit = found[2];
  return unit === undefined ? bad : ok(amount * (DURATION_UNITS_MS[unit] ?? 0));
}

/** Parses a comma-separated list of hosts: names, addresses, `.domain`, `*`. */
function parseHosts(text: string): Parsed<readonly string[]> {
  const hosts: string[] = [];
  for (const part of text.split(",")) {
    const item = part.trim().toLowerCase();
    if (item === "") continue;
    if (item === "*") {
      hosts.push(item);
      continue;
    }
    const domain = item.startsWith(".");
    const host = parseHost(domain ? item.slice(1) : item);
    if (host === undefined) return bad;
    hosts.push(domain ? `.${host}` : host);
  }
  return hosts.length === 0 ? bad : ok(hosts);
}

/** Whether `host` is a loopback address or name. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/** Parses a comma-separated list of origins, or `*`. */
function parseOrigins(text: string): Parsed<readonly string[]> {
  const origins: string[] = [];
  for (const part of text.split(",")) {
    const item = part.trim();
    if (item === "") continue;
    if (item === "*") {
      origins.push("*");
      continue;
    }
    if (!URL.canParse(item)) return bad;
    const url = new URL(item);
    if (
      url.origin === "null" || url.pathname !== "/" || url.search || url.hash
    ) return bad;
    origins.push(url.origin);
  }
  return ok(origins);
}

/**
 * The declarations, in the order `--help` and the docs list them. Names,
 * variables and defaults are the server's public interface: change them
 * only with the docs and a note in the changelog.
 */
export const SETTINGS = {
  port: integer({
    flag: "port",
    env: "PORT",
    section: "server",
    default: 8000,
    min: 0,
    max: 65535,
    help: "TCP port to listen on (0 picks a free one).",
  }),
  host: {
    flag: "host",
    env: "HOST",
    section: "server",
    help:
      "Address to listen on: an IP address or a host name; only 0.0.0.0 or :: listen on every interface.",
    default: "127.0.0.1",
    shownDefault: "127.0.0.1",
    allowed: "an IPv4 or IPv6 address or a host name",
    type: "string",
    parse(text) {
      const host = parseHost(text);
      return host === undefined ? bad : ok(host);
    },
  } satisfies Setting<string>,
  workers: {
    flag: "workers",
    env: "CHAT_WORKERS",
    section: "server",
    help:
      "Isolates serving the port in this process (`auto`: one per CPU); Linux only, elsewhere 1.",
    default: 1,
    shownDefault: "1",
    allowed: "a whole number from 1 to 256, or auto",
    type: "string",
    parse(text): Parsed<number | "auto"> {
      return text.trim().toLowerCase() === "auto"
        ? ok("auto")
        : parseWholeNumber(text, 1, 256);
    },
  } satisfies Setting<number | "auto">,
  db: {
    flag: "db",
    env: "CHAT_DB",
    section: "storage",
    help: "SQLite file (missing folders are created), or :memory:.",
    default: "./data/chat.db",
    shownDefault: "./data/chat.db",
    allowed: "a file path or :memory:",
    type: "string",
    parse: (text) => text.trim() === "" ? bad : ok(text.trim()),
  } satisfies Setting<string>,
  redisUrl: {
    flag: "redis",
    env: "REDIS_URL",
    section: "storage",
    help:
      "Redis shared by several server processes: rooms, ids, history and presence live there instead of SQLite.",
    default: undefined,
    shownDefault: "(none: SQLite)",
    allowed: "a redis:// or rediss:// URL, e.g. redis://:password@host:6379/0",
    type: "string",
    secret: true,
    parse(text): Parsed<URL | undefined> {
      const url = parseRedisUrl(text);
      return url === undefined ? bad : ok(url);
    },
  } satisfies Setting<URL | undefined>,
  logLevel: choice({
    flag: "log-level",
    env: "LOG_LEVEL",
    section: "server",
    default: "info",
    values: ["debug", "info", "warn", "error"] satisfies LogLevel[],
    help: "Lowest level of the JSON log lines printed.",
  }),
  historyLimit: integer({
    flag: "history",
    env: "CHAT_HISTORY",
    section: "storage",
    default: 50,
    min: 0,
    max: 10_000,
    help: "Messages sent to a fresh connection; older ones via the API.",
  }),
  historyMax: integer({
    flag: "history-max",
    env: "CHAT_HISTORY_MAX",
    section: "storage",
    default: 10_000,
    min: 1,
    max: 100_000_000,
    help:
      "Messages kept per room; older ones are pruned, a 64th of it at a time in SQLite.",
  }),
  historyMaxAgeMs: {
    flag: "history-max-age",
    env: "CHAT_HISTORY_MAX_AGE",
    section: "storage",
    help:
      "Messages older than this are deleted (30d, 12h, 90m, 45s); 0 keeps them, bounded by count and size only.",
    default: 0,
    shownDefault: "0",
    allowed: "a duration like 30d, 12h, 90m or 45s, or 0",
    type: "string",
    parse: parseDuration,
  } satisfies Setting<number>,
  maxRooms: integer({
    flag: "max-rooms",
    env: "CHAT_MAX_ROOMS",
    section: "limits",
    default: 10_000,
    min: 1,
    max: 100_000_000,
    help: "Rooms that may hold messages at once, over the whole store.",
    whenExceeded:
      "a new room's first message gets `unavailable`; existing rooms go on",
  }),
  maxDbBytes: integer({
    flag: "max-db-bytes",
    env: "CHAT_MAX_DB_BYTES",
    section: "limits",
    default: 1024 * 1024 * 1024,
    min: 256 * 1024,
    max: 1024 ** 4,
    help: "Largest size of the SQLite file, in bytes.",
    whenExceeded:
      "sends get `unavailable` and `/healthz` 503 until space is freed; reads go on",
  }),
  recoveryLimit: integer({
    flag: "recovery-max",
    env: "CHAT_RECOVERY_MAX",
    section: "storage",
    default: 1000,
    min: 0,
    max: 100_000,
    help:
      "Largest since= gap recovered exactly; past it the latest history with recovered: false.",
  }),
  maxMessageChars: integer({
    flag: "max-message-chars",
    env: "CHAT_MAX_MESSAGE_CHARS",
    section: "limits",
    default: 2000,
    min: 1,
    max: 1_000_000,
    help: "Longest chat message, in characters (code points).",
    whenExceeded: "`error` frame `too_long`; not stored; socket stays open",
  }),
  maxFrameBytes: integer({
    flag: "max-frame-bytes",
    env: "CHAT_MAX_FRAME_BYTES",
    section: "limits",
    default: 16_384,
    min: 64,
    max: 64 * 1024 * 1024,
    help: "Largest WebSocket frame, in UTF-8 bytes.",
    whenExceeded: "socket closed with `1009`",
  }),
  rateLimit: integer({
    flag: "rate-limit",
    env: "CHAT_RATE_LIMIT",
    section: "limits",
    default: 5,
    min: 0,
    max: 1_000_000,
    help:
      "Messages per second per sender (a signed user or a browser key, over all its sockets; sockets with neither share their address's); 0 turns the limit off.",
    whenExceeded: "`error` frame `rate_limited`; not stored",
  }),
  rateBurst: integer({
    flag: "rate-burst",
    env: "CHAT_RATE_BURST",
    section: "limits",
    default: 10,
    min: 1,
    max: 1_000_000,
    help: "Messages a sender may send at once before the rate applies.",
    whenExceeded:
      "as above; more than this many refusals in a row closes with `1008`",
  }),
  addressRateLimit: integerOrAuto({
    flag: "address-rate-limit",
    env: "CHAT_ADDRESS_RATE_LIMIT",
    section: "limits",
    min: 0,
    max: 1_000_000,
    help:
      "Messages per second per client address, over all its senders (everyone behind one NAT); 0 turns the limit off; auto: 40 times --rate-limit (200).",
    whenExceeded: "`error` frame `rate_limited`; not stored",
  }),
  addressRateBurst: integerOrAuto({
    flag: "address-rate-burst",
    env: "CHAT_ADDRESS_RATE_BURST",
    section: "limits",
    min: 1,
    max: 1_000_000,
    help:
      "Messages a client address may send at once before its rate applies; auto: 100 times --rate-burst (1000).",
    whenExceeded: "as above",
  }),
  connectRate: integer({
    flag: "connect-rate",
    env: "CHAT_CONNECT_RATE",
    section: "limits",
    default: 20,
    min: 0,
    max: 1_000_000,
    help:
      "New sockets per second per client address (each is a join and a leave); 0 turns the limit off.",
    whenExceeded: "upgrade refused with `429`",
  }),
  connectBurst: integer({
    flag: "connect-burst",
    env: "CHAT_CONNECT_BURST",
    section: "limits",
    default: 2000,
    min: 1,
    max: 1_000_000,
    help:
      "New sockets a client address may open at once before the connect rate applies (a whole office reconnecting after a restart).",
    whenExceeded: "upgrade refused with `429`",
  }),
  maxConnectionsPerIp: integerOrAuto({
    flag: "max-connections-per-ip",
    env: "CHAT_MAX_CONNECTIONS_PER_IP",
    section: "limits",
    min: 1,
    max: 1_000_000,
    help:
      "Open sockets per client address, per process (per isolate under deno serve --parallel); auto: a fifth of --max-connections.",
    whenExceeded: "upgrade refused with `429`",
  }),
  maxConnections: integerOrAuto({
    flag: "max-connections",
    env: "CHAT_MAX_CONNECTIONS",
    section: "limits",
    min: 1,
    max: 10_000_000,
    help:
      "Open sockets in total, per process (per isolate under deno serve --parallel); auto: 4/5 of the open-file limit after a reserve of 256, at most 10000.",
    whenExceeded: "upgrade refused with `503`",
  }),
  maxBufferedBytes: integer({
    flag: "max-buffered-bytes",
    env: "CHAT_MAX_BUFFERED_BYTES",
    section: "limits",
    default: 1024 * 1024,
    min: 1024,
    max: 1024 * 1024 * 1024,
    help: "Unsent bytes queued for one client before it is cut off.",
    whenExceeded: "no more frames; closed with `1013`",
  }),
  idleTimeoutS: integer({
    flag: "idle-timeout",
    env: "CHAT_IDLE_TIMEOUT_S",
    section: "limits",
    default: 30,
    min: 1,
    max: 86_400,
    help: "Seconds without a pong before a socket is closed.",
    whenExceeded: "socket closed by Deno's heartbeat",
  }),
  allowedHosts: {
    flag: "allowed-hosts",
    env: "CHAT_ALLOWED_HOSTS",
    section: "server",
    help:
      "Comma-separated host names clients use (.example.com for a domain and its subdomains, * for any); other Host headers get 400. Required with --host 0.0.0.0 or ::.",
    default: "listen-address",
    shownDefault: "the listen address (and localhost on loopback)",
    allowed: "comma-separated host names or addresses, .domain, or *",
    type: "string",
    parse: (text): Parsed<readonly string[] | "listen-address"> =>
      parseHosts(text),
  } satisfies Setting<readonly string[] | "listen-address">,
  reservedNames: {
    flag: "reserved-names",
    env: "CHAT_RESERVED_NAMES",
    section: "limits",
    help:
      "Comma-separated display names nobody may take, nor anything that looks like them (other cases, look-alike letters, punctuation).",
    whenExceeded: "upgrade refused with `400`",
    default: ["system", "server", "admin", "moderator"],
    shownDefault: "system,server,admin,moderator",
    allowed: "comma-separated display names",
    type: "string",
    parse(text): Parsed<readonly string[]> {
      const names: string[] = [];
      for (const part of text.split(",")) {
        if (part.trim() === "") continue;
        // A reserved word that is no valid name could never be taken: a typo.
        const parsed = parseUserName(part, []);
        if (!parsed.ok) return bad;
        names.push(parsed.name);
      }
      return ok(names);
    },
  } satisfies Setting<readonly string[]>,
  allowedOrigins: {
    flag: "allowed-origins",
    env: "ALLOWED_ORIGINS",
    section: "server",
    help:
      "Comma-separated origins besides the page's own that may open sockets; * for all.",
    default: [],
    shownDefault: "(none)",
    allowed: "comma-separated origins like https://chat.example, or *",
    type: "string",
    parse: parseOrigins,
  } satisfies Setting<readonly string[]>,
  trustedProxies: {
    flag: "trusted-proxies",
    env: "CHAT_TRUSTED_PROXIES",
    section: "server",
    help:
      "Comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For (or Forwarded) names the client; from others those headers are ignored.",
    default: [],
    shownDefault: "(none)",
    allowed:
      "comma-separated IPv4 or IPv6 addresses or CIDR ranges, like 127.0.0.1, 10.0.0.0/8, ::1",
    type: "string",
    parse(text): Parsed<readonly string[]> {
      const ranges = parseTrustedProxies(text);
      return ranges === undefined ? bad : ok(ranges);
    },
  } satisfies Setting<readonly string[]>,
  auth: choice({
    flag: "auth",
    env: "CHAT_AUTH",
    section: "server",
    default: "off",
    values: ["off", "optional", "required"],
    help:
      "Signed identities (JWT in ?token=): off, optional (guests too, signed users marked) or required (401 without a valid token).",
  }),
  authSecret: secretText({
    flag: "auth-secret",
    env: "CHAT_AUTH_SECRET",
    help: "HS256 secret the site signs tokens with (at least 32 bytes).",
    allowed: "text of at least 32 bytes",
  }),
  authPublicKey: optionalText({
    flag: "auth-public-key",
    env: "CHAT_AUTH_PUBLIC_KEY",
    help:
      "File with the site's public key: PEM (RS256, ES256, EdDSA) or a JWKS document.",
    allowed: "a file path",
  }),
  authIssuer: optionalText({
    flag: "auth-issuer",
    env: "CHAT_AUTH_ISSUER",
    help: "Required iss claim of tokens, when set.",
    allowed: "text",
  }),
  authAudience: optionalText({
    flag: "auth-audience",
    env: "CHAT_AUTH_AUDIENCE",
    help: "Required aud claim of tokens, when set.",
    allowed: "text",
  }),
  apiKey: secretText({
    flag: "api-key",
    env: "CHAT_API_KEY",
    help:
      "Key of the server API (Authorization: Bearer); unset: the API is off (404).",
    allowed: "text of at least 24 characters",
    minLength: 24,
  }),
  requireOrigin: flag({
    flag: "require-origin",
    env: "CHAT_REQUIRE_ORIGIN",
    section: "server",
    default: false,
    help: "Refuse sockets whose upgrade has no Origin header.",
  }),
  presenceListMax: integer({
    flag: "presence-list-max",
    env: "CHAT_PRESENCE_LIST_MAX",
    section: "presence",
    default: 200,
    min: 1,
    max: 10_000,
    help:
      "Names in the presence frame a new connection gets, with the count of all; the API pages through the rest.",
  }),
  repairIntervalMs: integer({
    flag: "repair-interval-ms",
    env: "CHAT_REPAIR_INTERVAL_MS",
    section: "presence",
    default: 1000,
    min: 10,
    max: 3_600_000,
    help: "How often each room compares itself with the store.",
  }),
  presenceHeartbeatMs: integer({
    flag: "presence-heartbeat-ms",
    env: "CHAT_PRESENCE_HEARTBEAT_MS",
    section: "presence",
    default: 5000,
    min: 50,
    max: 3_600_000,
    help: "How often each isolate refreshes its presence entries.",
  }),
  presenceTtlMs: {
    flag: "presence-ttl-ms",
    env: "CHAT_PRESENCE_TTL_MS",
    section: "presence",
    help:
      "Presence of a silent isolate expires after this; longer than the heartbeat.",
    default: "3x-heartbeat",
    shownDefault: "3 × heartbeat",
    allowed: "a whole number from 100 to 86400000",
    type: "string",
    parse: (text): Parsed<number | "3x-heartbeat"> =>
      parseWholeNumber(text, 100, 86_400_000),
  } satisfies Setting<number | "3x-heartbeat">,
} as const;

/** The name of a declared setting. */
export type SettingKey = keyof typeof SETTINGS;

type ValueOf<S> = S extends Setting<infer T> ? T : never;

/** Each setting's value as parsed, before defaults that depend on others. */
type RawValues = { readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

/** Everything the server can be told at start, resolved. */
export interface Config extends
  Omit<
    RawValues,
    | "workers"
    | "maxConnections"
    | "maxConnectionsPerIp"
    | "addressRateLimit"
    | "addressRateBurst"
    | "presenceTtlMs"
    | "logLevel"
    | "allowedOrigins"
    | "allowedHosts"
    | "reservedNames"
  > {
  readonly reservedNames: readonly string[];
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
  readonly logLevel: LogLevel;
  readonly allowedOrigins: readonly string[];
}

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
  const get = <K extends SettingKey>(key: K): RawValues[K] => {
    const value = raw[key];
    // Every key was filled by resolveSettings from its own declaration.
    return value as RawValues[K];
  };
  const heartbeat = get("presenceHeartbeatMs");
  const ttlSetting = get("presenceTtlMs");
  const presenceTtlMs = ttlSetting === "3x-heartbeat"
    ? 3 * heartbeat
    : ttlSetting;
  if (presenceTtlMs <= heartbeat) {
    throw new ConfigError(
      `CHAT_PRESENCE_TTL_MS (${presenceTtlMs}) must be longer than CHAT_PRESENCE_HEARTBEAT_MS (${heartbeat})`,
    );
  }
  const workersSetting = get("workers");
  const workers = workersSetting === "auto"
    ? Math.max(1, Math.min(256, machine.cpus))
    : workersSetting;
  const db = get("db");
  const redisUrl = get("redisUrl");
  if (workers > 1 && db === ":memory:" && redisUrl === undefined) {
    throw new ConfigError(
      `--workers ${workers} needs a database file the workers share; :memory: would give each worker its own (give --db a file)`,
    );
  }
  const host = get("host");
  const hostsSetting = get("allowedHosts");
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
  const auth = get("auth");
  const authSecret = get("authSecret");
  const authPublicKey = get("authPublicKey");
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
  const maxConnectionsSetting = get("maxConnections");
  const maxConnections = maxConnectionsSetting === "auto"
    ? autoMaxConnections(machine.openFileLimit)
    : maxConnectionsSetting;
  const maxConnectionsPerIp = get("maxConnectionsPerIp");
  const rateLimit = get("rateLimit");
  const rateBurst = get("rateBurst");
  const addressRateLimit = get("addressRateLimit");
  const addressRateBurst = get("addressRateBurst");
  const logLevel = get("logLevel");
  if (!isLogLevel(logLevel)) throw new ConfigError(`bad log level ${logLevel}`);
  return {
    port: get("port"),
    host,
    allowedHosts,
    workers,
    db,
    redisUrl,
    logLevel,
    historyLimit: get("historyLimit"),
    historyMax: get("historyMax"),
    historyMaxAgeMs: get("historyMaxAgeMs"),
    maxRooms: get("maxRooms"),
    maxDbBytes: get("maxDbBytes"),
    recoveryLimit: get("recoveryLimit"),
    maxMessageChars: get("maxMessageChars"),
    maxFrameBytes: get("maxFrameBytes"),
    rateLimit,
    rateBurst,
    addressRateLimit: addressRateLimit === "auto"
      ? AUTO_ADDRESS_RATE_SENDERS * rateLimit
      : addressRateLimit,
    addressRateBurst: addressRateBurst === "auto"
      ? AUTO_ADDRESS_BURST_SENDERS * rateBurst
      : addressRateBurst,
    connectRate: get("connectRate"),
    connectBurst: get("connectBurst"),
    maxConnectionsPerIp: maxConnectionsPerIp === "auto"
      ? autoMaxConnectionsPerIp(maxConnections)
      : maxConnectionsPerIp,
    maxConnections,
    maxBufferedBytes: get("maxBufferedBytes"),
    idleTimeoutS: get("idleTimeoutS"),
    allowedOrigins: get("allowedOrigins"),
    trustedProxies: get("trustedProxies"),
    reservedNames: get("reservedNames"),
    requireOrigin: get("requireOrigin"),
    auth,
    authSecret,
    authPublicKey,
    authIssuer: get("authIssuer"),
    authAudience: get("authAudience"),
    apiKey: get("apiKey"),
    repairIntervalMs: get("repairIntervalMs"),
    presenceListMax: get("presenceListMax"),
    presenceHeartbeatMs: heartbeat,
    presenceTtlMs,
  };
}

/** The configuration with every default, for tests and tools. */
export function defaultConfig(): Config {
  return loadConfig([], () => undefined, { cpus: 1 });
}

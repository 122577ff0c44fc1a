/**
 * The shape of one setting and the builders the declarations use: each
 * builder turns a flag, a variable, a default and a line of help into a
 * {@linkcode Setting} that knows what text it accepts and how `--help` and
 * the docs describe it. The value parsers (hosts, origins, durations,
 * display-name lists) live here too; they report failure as a value, and
 * the resolution in `server/settings.ts` turns it into a `ConfigError`.
 *
 * @module
 */

import { parseUserName } from "../chat/user_name.ts";

/**
 * The groups `--help` lists the settings in, in this order: what most
 * people set first, then each concern a deployment adds.
 */
export const SETTING_GROUPS = {
  basic: "Basic",
  scaling: "Scaling out (several processes, a proxy in front)",
  security: "Security (which hosts and origins are served)",
  identities: "Identities (signed tokens, reserved names)",
  integration: "Integration with your site (server API, hooks)",
  limits: "Limits (each one's refusal is in docs/security.md)",
  tuning: "Tuning (history, recovery, presence timing)",
} as const;

/** One of {@linkcode SETTING_GROUPS}. */
export type SettingGroup = keyof typeof SETTING_GROUPS;

/** The result of parsing one value. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | {
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
  /** Where `--help` lists it. */
  readonly group: SettingGroup;
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

/** What every builder takes: the names, the help and the group. */
type Common = Pick<
  Setting<unknown>,
  "flag" | "env" | "help" | "group" | "whenExceeded"
>;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad: Parsed<never> = { ok: false };

/** `undefined` from a reader is a refusal; anything else its value. */
function fromReader<T>(value: T | undefined): Parsed<T> {
  return value === undefined ? bad : ok(value);
}

function parseWholeNumber(text: string, min: number, max: number) {
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) return bad;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) && value >= min && value <= max
    ? ok(value)
    : bad;
}

/**
 * A whole number from `min` to `max`. The default may be a word for a value
 * resolved from other settings (`3x-heartbeat`); it is never accepted as
 * input, and `shownDefault` says what it stands for.
 */
export function integer<const D extends number | string>(
  options: Common & {
    default: D;
    shownDefault?: string;
    min: number;
    max: number;
  },
): Setting<number | D> {
  const { min, max, shownDefault, ...rest } = options;
  return {
    ...rest,
    shownDefault: shownDefault ?? String(options.default),
    allowed: `a whole number from ${min} to ${max}`,
    type: "string",
    parse: (text) => parseWholeNumber(text, min, max),
  };
}

/**
 * A whole number, or `auto` for a value the server works out; the default
 * is `auto` unless one is given.
 */
export function integerOrAuto(
  options: Common & { default?: number; min: number; max: number },
): Setting<number | "auto"> {
  const { min, max, default: value = "auto", ...rest } = options;
  return {
    ...rest,
    default: value,
    shownDefault: String(value),
    allowed: `a whole number from ${min} to ${max}, or auto`,
    type: "string",
    parse: (text) =>
      text.trim().toLowerCase() === "auto"
        ? ok("auto")
        : parseWholeNumber(text, min, max),
  };
}

/** One word out of `values`, in any case. */
export function choice<T extends string>(
  options: Common & { default: T; values: readonly T[] },
): Setting<T> {
  const { values, ...rest } = options;
  return {
    ...rest,
    shownDefault: options.default,
    allowed: `one of ${values.join(", ")}`,
    type: "string",
    parse(text) {
      const wanted = text.trim().toLowerCase();
      return fromReader(values.find((item) => item === wanted));
    },
  };
}

/** A switch: `--name`, `--no-name`, or `1`/`0` in the variable. */
export function flag(options: Common & { default: boolean }): Setting<boolean> {
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

/**
 * A value read by `read`, which returns `undefined` for text it refuses:
 * for settings whose parser lives with what they configure (a Redis URL,
 * proxy ranges) or is their own (a host, a file path).
 */
export function value<T>(
  options: Common & {
    default: T;
    shownDefault: string;
    allowed: string;
    secret?: boolean;
    read(text: string): T | undefined;
  },
): Setting<T> {
  const { read, ...rest } = options;
  return { ...rest, type: "string", parse: (text) => fromReader(read(text)) };
}

/** Optional free text, such as a file path or a claim value. */
export function text(
  options: Common & { allowed: string },
): Setting<string | undefined> {
  return {
    ...options,
    default: undefined,
    shownDefault: "(none)",
    type: "string",
    parse: (input) => fromReader(nonEmpty(input)),
  };
}

/**
 * A secret: never echoed in an error; the lower bound, when given, is
 * checked here so that a short one is refused at start.
 */
export function secret(
  options: Common & { allowed: string; minLength?: number },
): Setting<string | undefined> {
  const { minLength = 1, ...rest } = options;
  return {
    ...rest,
    default: undefined,
    shownDefault: "(none)",
    type: "string",
    secret: true,
    parse: (text) => text.length < minLength ? bad : ok(text),
  };
}

/** A duration like `30d`, `12h`, `90m`, `45s` or `0`, in milliseconds. */
export function duration(
  options: Common & { default: number; shownDefault?: string },
): Setting<number> {
  return {
    ...options,
    shownDefault: options.shownDefault ?? String(options.default),
    allowed: "a duration like 30d, 12h, 90m or 45s, or 0",
    type: "string",
    parse: parseDuration,
  };
}

/**
 * Host names requests may carry; by default the listen address, resolved
 * once the host is known.
 */
export function hosts(
  options: Common & { shownDefault: string },
): Setting<readonly string[] | "listen-address"> {
  return {
    ...options,
    default: "listen-address",
    allowed: "comma-separated host names or addresses, .domain, or *",
    type: "string",
    parse: parseHosts,
  };
}

/** Origins besides the page's own; none by default. */
export function origins(options: Common): Setting<readonly string[]> {
  return {
    ...options,
    default: [],
    shownDefault: "(none)",
    allowed: "comma-separated origins like https://chat.example, or *",
    type: "string",
    parse: parseOrigins,
  };
}

/**
 * Origins of the sites that may show the pages in a frame; none by
 * default. `*` is refused: any site could then frame the pages under its
 * own buttons (clickjacking).
 */
export function frameOrigins(options: Common): Setting<readonly string[]> {
  return {
    ...options,
    default: [],
    shownDefault: "'none'",
    allowed: "comma-separated origins like https://site.example, or 'none'",
    type: "string",
    parse: (text) => {
      if (/^\s*'?none'?\s*$/i.test(text)) return ok([]);
      const parsed = parseOrigins(text);
      return parsed.ok && !parsed.value.includes("*") ? parsed : bad;
    },
  };
}

/** The trimmed text, or `undefined` when nothing is left. */
export function nonEmpty(text: string): string | undefined {
  const trimmed = text.trim();
  return trimmed === "" ? undefined : trimmed;
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

/** Whether `host` is a loopback address or name. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
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
 * Parses a comma-separated list of display names, or `undefined` when one
 * is no valid name: it could never be taken, so it is a typo.
 */
export function parseNameList(text: string): readonly string[] | undefined {
  const names: string[] = [];
  for (const part of text.split(",")) {
    if (part.trim() === "") continue;
    const parsed = parseUserName(part, []);
    if (!parsed.ok) return undefined;
    names.push(parsed.name);
  }
  return names;
}

/**
 * Every setting of the server, declared once: its flag, its environment
 * variable, its default, what values it allows and one line of help. The
 * same declarations drive the command-line parser, `--help`, and the
 * settings tables in the README and docs/security.md (a test compares
 * them). The builders and parsers are in `server/setting_parsers.ts`; the
 * resolution into a `Config` is in `server/settings.ts`.
 *
 * @module
 */

import { parseRedisUrl } from "../adapters/redis/url.ts";
import {
  parseHookUrl,
  parseSigningSecrets,
  parseWebhookUrls,
} from "../adapters/webhooks/config.ts";
import { parseTrustedProxies } from "../chat/address_range.ts";
import type { SignInMode } from "../chat/identity.ts";
import type { LogLevel } from "../observability/log.ts";
import {
  choice,
  duration,
  flag,
  frameOrigins,
  hosts,
  integer,
  integerOrAuto,
  nonEmpty,
  origins,
  parseHost,
  parseNameList,
  secret,
  text,
  value,
} from "./setting_parsers.ts";

/**
 * The declarations, in the order `--help` and the docs list them. Names,
 * variables and defaults are the server's public interface: change them
 * only with the docs and a note in the changelog.
 */
export const SETTINGS = {
  port: integer({
    flag: "port",
    env: "PORT",
    group: "basic",
    default: 8000,
    min: 0,
    max: 65535,
    help: "TCP port to listen on (0 picks a free one).",
  }),
  host: value({
    flag: "host",
    env: "HOST",
    group: "basic",
    help:
      "Address to listen on: an IP address or a host name; only 0.0.0.0 or :: listen on every interface.",
    default: "127.0.0.1",
    shownDefault: "127.0.0.1",
    allowed: "an IPv4 or IPv6 address or a host name",
    read: parseHost,
  }),
  workers: integerOrAuto({
    flag: "workers",
    env: "CHAT_WORKERS",
    group: "basic",
    help:
      "Isolates serving the port in this process (`auto`: one per CPU); Linux only, elsewhere 1.",
    default: 1,
    min: 1,
    max: 256,
  }),
  db: value({
    flag: "db",
    env: "CHAT_DB",
    group: "basic",
    help: "SQLite file (missing folders are created), or :memory:.",
    default: "./data/chat.db",
    shownDefault: "./data/chat.db",
    allowed: "a file path or :memory:",
    read: nonEmpty,
  }),
  redisUrl: value<URL | undefined>({
    flag: "redis",
    env: "REDIS_URL",
    group: "scaling",
    help:
      "Redis shared by several server processes: rooms, ids, history and presence live there instead of SQLite.",
    default: undefined,
    shownDefault: "(none: SQLite)",
    allowed: "a redis:// or rediss:// URL, e.g. redis://:password@host:6379/0",
    secret: true,
    read: parseRedisUrl,
  }),
  logLevel: choice({
    flag: "log-level",
    env: "LOG_LEVEL",
    group: "basic",
    default: "info",
    values: ["debug", "info", "warn", "error"] satisfies LogLevel[],
    help: "Lowest level of the JSON log lines printed.",
  }),
  historyLimit: integer({
    flag: "history",
    env: "CHAT_HISTORY",
    group: "tuning",
    default: 50,
    min: 0,
    max: 10_000,
    help: "Messages sent to a fresh connection; older ones via the API.",
  }),
  historyMax: integer({
    flag: "history-max",
    env: "CHAT_HISTORY_MAX",
    group: "tuning",
    default: 10_000,
    min: 1,
    max: 100_000_000,
    help:
      "Messages kept per room; older ones are pruned, a 64th of it at a time in SQLite.",
  }),
  historyMaxAgeMs: duration({
    flag: "history-max-age",
    env: "CHAT_HISTORY_MAX_AGE",
    group: "tuning",
    help:
      "Messages older than this are deleted (30d, 12h, 90m, 45s); 0 keeps them, bounded by count and size only.",
    default: 0,
  }),
  maxRooms: integer({
    flag: "max-rooms",
    env: "CHAT_MAX_ROOMS",
    group: "limits",
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
    group: "limits",
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
    group: "tuning",
    default: 1000,
    min: 0,
    max: 100_000,
    help:
      "Largest since= gap recovered exactly; past it the latest history with recovered: false.",
  }),
  maxMessageChars: integer({
    flag: "max-message-chars",
    env: "CHAT_MAX_MESSAGE_CHARS",
    group: "limits",
    default: 2000,
    min: 1,
    max: 1_000_000,
    help: "Longest chat message, in characters (code points).",
    whenExceeded: "`error` frame `too_long`; not stored; socket stays open",
  }),
  editWindowS: integer({
    flag: "edit-window",
    env: "CHAT_EDIT_WINDOW_S",
    group: "limits",
    default: 900,
    min: 0,
    max: 31_536_000,
    help:
      "Seconds after sending a message during which its owner may edit it; 0 turns edits off.",
    whenExceeded: "`error` frame `edit_window_passed` (`edits_off` at 0)",
  }),
  maxFrameBytes: integer({
    flag: "max-frame-bytes",
    env: "CHAT_MAX_FRAME_BYTES",
    group: "limits",
    default: 16_384,
    min: 64,
    max: 64 * 1024 * 1024,
    help: "Largest WebSocket frame, in UTF-8 bytes.",
    whenExceeded: "socket closed with `1009`",
  }),
  rateLimit: integer({
    flag: "rate-limit",
    env: "CHAT_RATE_LIMIT",
    group: "limits",
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
    group: "limits",
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
    group: "limits",
    min: 0,
    max: 1_000_000,
    help:
      "Messages per second per client address, over all its senders (everyone behind one NAT); 0 turns the limit off; auto: 40 times --rate-limit (200).",
    whenExceeded: "`error` frame `rate_limited`; not stored",
  }),
  addressRateBurst: integerOrAuto({
    flag: "address-rate-burst",
    env: "CHAT_ADDRESS_RATE_BURST",
    group: "limits",
    min: 1,
    max: 1_000_000,
    help:
      "Messages a client address may send at once before its rate applies; auto: 100 times --rate-burst (1000).",
    whenExceeded: "as above",
  }),
  connectRate: integer({
    flag: "connect-rate",
    env: "CHAT_CONNECT_RATE",
    group: "limits",
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
    group: "limits",
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
    group: "limits",
    min: 1,
    max: 1_000_000,
    help:
      "Open sockets per client address, per process (per isolate under deno serve --parallel); auto: a fifth of --max-connections.",
    whenExceeded: "upgrade refused with `429`",
  }),
  maxConnections: integerOrAuto({
    flag: "max-connections",
    env: "CHAT_MAX_CONNECTIONS",
    group: "limits",
    min: 1,
    max: 10_000_000,
    help:
      "Open sockets in total, per process (per isolate under deno serve --parallel); auto: 4/5 of the open-file limit after a reserve of 256, at most 10000.",
    whenExceeded: "upgrade refused with `503`",
  }),
  maxBufferedBytes: integer({
    flag: "max-buffered-bytes",
    env: "CHAT_MAX_BUFFERED_BYTES",
    group: "limits",
    default: 1024 * 1024,
    min: 1024,
    max: 1024 * 1024 * 1024,
    help: "Unsent bytes queued for one client before it is cut off.",
    whenExceeded: "no more frames; closed with `1013`",
  }),
  idleTimeoutS: integer({
    flag: "idle-timeout",
    env: "CHAT_IDLE_TIMEOUT_S",
    group: "limits",
    default: 30,
    min: 1,
    max: 86_400,
    help: "Seconds without a pong before a socket is closed.",
    whenExceeded: "socket closed by Deno's heartbeat",
  }),
  allowedHosts: hosts({
    flag: "allowed-hosts",
    env: "CHAT_ALLOWED_HOSTS",
    group: "security",
    help:
      "Comma-separated host names clients use (.example.com for a domain and its subdomains, * for any); other Host headers get 400. Required with --host 0.0.0.0 or ::.",
    shownDefault: "the listen address (and localhost on loopback)",
  }),
  reservedNames: value<readonly string[]>({
    flag: "reserved-names",
    env: "CHAT_RESERVED_NAMES",
    group: "identities",
    help:
      "Comma-separated display names nobody may take, nor anything that looks like them (other cases, look-alike letters, punctuation).",
    whenExceeded: "upgrade refused with `400`",
    default: ["system", "server", "admin", "moderator"],
    shownDefault: "system,server,admin,moderator",
    allowed: "comma-separated display names",
    read: parseNameList,
  }),
  allowedOrigins: origins({
    flag: "allowed-origins",
    env: "ALLOWED_ORIGINS",
    group: "security",
    help:
      "Comma-separated origins besides the page's own that may open sockets; * for all.",
  }),
  frameAncestors: frameOrigins({
    flag: "frame-ancestors",
    env: "CHAT_FRAME_ANCESTORS",
    group: "security",
    help:
      "Comma-separated origins of sites that may embed the pages in an iframe (CSP frame-ancestors; they may also hand the room page a token by postMessage); 'none' refuses every frame.",
  }),
  trustedProxies: value<readonly string[]>({
    flag: "trusted-proxies",
    env: "CHAT_TRUSTED_PROXIES",
    group: "scaling",
    help:
      "Comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For (or Forwarded) names the client; from others those headers are ignored.",
    default: [],
    shownDefault: "(none)",
    allowed:
      "comma-separated IPv4 or IPv6 addresses or CIDR ranges, like 127.0.0.1, 10.0.0.0/8, ::1",
    read: parseTrustedProxies,
  }),
  auth: choice({
    flag: "auth",
    env: "CHAT_AUTH",
    group: "identities",
    default: "off",
    values: ["off", "optional", "required"] satisfies SignInMode[],
    help:
      "Signed identities (JWT in ?token=): off, optional (guests too, signed users marked) or required (401 without a valid token).",
  }),
  authSecret: secret({
    flag: "auth-secret",
    env: "CHAT_AUTH_SECRET",
    group: "identities",
    help: "HS256 secret the site signs tokens with (at least 32 bytes).",
    allowed: "text of at least 32 bytes",
  }),
  authPublicKey: text({
    flag: "auth-public-key",
    env: "CHAT_AUTH_PUBLIC_KEY",
    group: "identities",
    help:
      "File with the site's public key: PEM (RS256, ES256, EdDSA) or a JWKS document.",
    allowed: "a file path",
  }),
  authIssuer: text({
    flag: "auth-issuer",
    env: "CHAT_AUTH_ISSUER",
    group: "identities",
    help: "Required iss claim of tokens, when set.",
    allowed: "text",
  }),
  authAudience: text({
    flag: "auth-audience",
    env: "CHAT_AUTH_AUDIENCE",
    group: "identities",
    help: "Required aud claim of tokens, when set.",
    allowed: "text",
  }),
  apiKey: secret({
    flag: "api-key",
    env: "CHAT_API_KEY",
    group: "integration",
    help:
      "Key of the server API (Authorization: Bearer); unset: the API is off (404).",
    allowed: "text of at least 24 characters",
    minLength: 24,
  }),
  adminSessionSecret: secret({
    flag: "admin-session-secret",
    env: "CHAT_ADMIN_SESSION_SECRET",
    group: "integration",
    help:
      "Key that signs the admin console's session cookie; unset: derived from CHAT_API_KEY (else CHAT_AUTH_SECRET), else random per process (several processes without either need it).",
    allowed: "text of at least 32 characters",
    minLength: 32,
  }),
  webhookUrls: value<readonly string[]>({
    flag: "webhook-url",
    env: "CHAT_WEBHOOK_URL",
    group: "integration",
    help:
      "Where events (messages, members, rooms) are POSTed, signed, at least once and in order per room; unset: webhooks are off.",
    default: [],
    shownDefault: "(none)",
    allowed: "one or more http(s) URLs, comma-separated",
    // A URL may carry a token in its query or its user part.
    secret: true,
    read: parseWebhookUrls,
  }),
  webhookSecrets: value<readonly string[] | undefined>({
    flag: "webhook-secret",
    env: "CHAT_WEBHOOK_SECRET",
    group: "integration",
    help:
      "Secret that signs webhooks and the publish hook (Standard Webhooks); two, comma-separated, while rotating: the first signs, both signatures are sent.",
    default: undefined,
    shownDefault: "(none)",
    allowed: "one or two comma-separated whsec_ secrets (whsec_ and base64)",
    secret: true,
    read: parseSigningSecrets,
  }),
  publishHookUrl: value<URL | undefined>({
    flag: "publish-hook-url",
    env: "CHAT_PUBLISH_HOOK_URL",
    group: "integration",
    help:
      "URL asked about each client message before it is stored (allow, reject or replace; docs/integration.md); needs CHAT_WEBHOOK_SECRET.",
    default: undefined,
    shownDefault: "(none)",
    allowed: "an http or https URL without a user name or password",
    read: parseHookUrl,
  }),
  publishHookTimeoutMs: integer({
    flag: "publish-hook-timeout-ms",
    env: "CHAT_PUBLISH_HOOK_TIMEOUT_MS",
    group: "integration",
    default: 1000,
    min: 10,
    max: 30_000,
    help:
      "How long the publish hook may take to answer; later messages of the room wait for it.",
  }),
  publishHookFailure: choice({
    flag: "publish-hook-failure",
    env: "CHAT_PUBLISH_HOOK_FAILURE",
    group: "integration",
    default: "allow",
    values: ["allow", "reject"],
    help:
      "What a publish hook that fails (timeout, network error, non-2xx, bad answer) does to the message: allow it, or reject it (the sender may send it again).",
  }),
  webhookTimeoutMs: integer({
    flag: "webhook-timeout-ms",
    env: "CHAT_WEBHOOK_TIMEOUT_MS",
    group: "integration",
    default: 10_000,
    min: 100,
    max: 600_000,
    help:
      "How long one webhook attempt may take before it counts as failed and is retried.",
  }),
  webhookRetryBaseMs: integer({
    flag: "webhook-retry-base-ms",
    env: "CHAT_WEBHOOK_RETRY_BASE_MS",
    group: "integration",
    default: 1000,
    min: 1,
    max: 3_600_000,
    help:
      "The first webhook retry waits up to this; each next one up to twice as long (full jitter).",
  }),
  webhookRetryMaxMs: integer({
    flag: "webhook-retry-max-ms",
    env: "CHAT_WEBHOOK_RETRY_MAX_MS",
    group: "integration",
    default: 3_600_000,
    min: 1,
    max: 86_400_000,
    help:
      "The longest wait between two webhook attempts at one event; retries go on until CHAT_WEBHOOK_MAX_AGE.",
  }),
  webhookMaxEvents: integer({
    flag: "webhook-max-events",
    env: "CHAT_WEBHOOK_MAX_EVENTS",
    group: "integration",
    default: 100_000,
    min: 1,
    max: 10_000_000,
    help: "Webhook events the outbox keeps while receivers have not had them.",
    whenExceeded:
      "the oldest undelivered events are dropped (one log line, chat_webhook_dropped_total); messages are kept",
  }),
  webhookMaxAgeMs: duration({
    flag: "webhook-max-age",
    env: "CHAT_WEBHOOK_MAX_AGE",
    group: "integration",
    help:
      "How long an undelivered webhook event is retried before it is dropped (24h, 90m); 0 bounds the outbox by count only.",
    default: 24 * 60 * 60 * 1000,
    shownDefault: "24h",
    whenExceeded:
      "the event is dropped (one log line, chat_webhook_dropped_total); messages are kept",
  }),
  requireOrigin: flag({
    flag: "require-origin",
    env: "CHAT_REQUIRE_ORIGIN",
    group: "security",
    default: false,
    help: "Refuse sockets whose upgrade has no Origin header.",
  }),
  presenceListMax: integer({
    flag: "presence-list-max",
    env: "CHAT_PRESENCE_LIST_MAX",
    group: "tuning",
    default: 200,
    min: 1,
    max: 10_000,
    help:
      "Names in the presence frame a new connection gets, with the count of all; the API pages through the rest.",
  }),
  repairIntervalMs: integer({
    flag: "repair-interval-ms",
    env: "CHAT_REPAIR_INTERVAL_MS",
    group: "tuning",
    default: 1000,
    min: 10,
    max: 3_600_000,
    help: "How often each room compares itself with the store.",
  }),
  presenceHeartbeatMs: integer({
    flag: "presence-heartbeat-ms",
    env: "CHAT_PRESENCE_HEARTBEAT_MS",
    group: "tuning",
    default: 5000,
    min: 50,
    max: 3_600_000,
    help: "How often each isolate refreshes its presence entries.",
  }),
  presenceTtlMs: integer({
    flag: "presence-ttl-ms",
    env: "CHAT_PRESENCE_TTL_MS",
    group: "tuning",
    help:
      "Presence of a silent isolate expires after this; longer than the heartbeat.",
    default: "3x-heartbeat",
    shownDefault: "3 × heartbeat",
    min: 100,
    max: 86_400_000,
  }),
} as const;

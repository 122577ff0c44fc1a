/**
 * Redis URLs as the settings take them and as logs may show them. Kept
 * apart from the Redis adapters so that reading the configuration does
 * not load a Redis client.
 *
 * @module
 */

/**
 * Parses `redis://[user:password@]host[:port][/db]` and `rediss://` (TLS);
 * undefined for anything else.
 */
export function parseRedisUrl(text: string): URL | undefined {
  const trimmed = text.trim();
  if (!URL.canParse(trimmed)) return undefined;
  const url = new URL(trimmed);
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") return undefined;
  if (url.hostname === "" || url.search !== "" || url.hash !== "") {
    return undefined;
  }
  return /^\/?(\d{1,5})?$/.test(url.pathname) ? url : undefined;
}

/**
 * The URL as logs, errors and `/healthz` may show it: scheme, host, port
 * and database, never the user name or password.
 */
export function redactRedisUrl(url: URL): string {
  const port = url.port === "" ? "6379" : url.port;
  const db = url.pathname.replace(/^\//, "") || "0";
  return `${url.protocol}//${url.hostname}:${port}/${db}`;
}

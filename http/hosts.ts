/**
 * The Host check, like Django's `ALLOWED_HOSTS`: a request whose Host is
 * not one this server answers to is refused with 400 before any routing.
 * It defeats DNS rebinding, where a hostile page makes the victim's browser
 * send requests (and sockets, with a matching Origin) to a server on the
 * victim's network under the attacker's host name. `/healthz` and
 * `/metrics` are exempt: load balancers and scrapers address servers by IP,
 * and those answers carry no user data.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { PageError } from "./page_error.ts";

/** Host names, addresses, `.suffix` for a domain and its subdomains, or `*`. */
export type AllowedHosts = readonly string[];

/** The paths that answer whatever the Host. */
const EXEMPT = new Set(["/healthz", "/metrics"]);

/** Whether `hostname` (no port; IPv6 without brackets) is allowed. */
export function isAllowedHost(hostname: string, allowed: AllowedHosts) {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return allowed.some((entry) =>
    entry === "*" || entry === host ||
    (entry.startsWith(".") && (host.endsWith(entry) || host === entry.slice(1)))
  );
}

/**
 * The host name a request was sent to (no port; IPv6 without brackets), or
 * undefined when its Host header is not a host at all (`a b`, `[::1`,
 * `localhost:abc`): Deno.serve builds the URL from that header, and such a
 * URL does not parse.
 */
function requestHostname(url: string): string | undefined {
  return URL.parse(url)?.hostname.replace(/^\[|\]$/g, "");
}

/**
 * Refuses requests whose Host is not allowed, or is not a host at all (even
 * with `*`: the routes read the request's URL).
 */
export function hostGuard(allowed: AllowedHosts): MiddlewareHandler {
  return async (c, next) => {
    if (!EXEMPT.has(c.req.path)) {
      const hostname = requestHostname(c.req.url);
      if (hostname === undefined) {
        const given = c.req.header("Host") ?? "";
        throw new PageError(
          400,
          `Host header is not a host name: ${JSON.stringify(given)}`,
          { kind: "bad_host", host: given },
        );
      }
      if (!isAllowedHost(hostname, allowed)) {
        throw new PageError(
          400,
          `Host not allowed: ${hostname}; the server answers to ${
            allowed.join(", ")
          } (CHAT_ALLOWED_HOSTS)`,
          { kind: "bad_host", host: hostname },
        );
      }
    }
    await next();
  };
}

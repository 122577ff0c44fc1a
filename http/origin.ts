/**
 * The Origin check that guards the WebSocket upgrade against Cross-Site
 * WebSocket Hijacking. Hono's csrf middleware skips GET requests, and an
 * upgrade is a GET, so the socket route calls this itself.
 *
 * @module
 */

/** Which origins may open sockets. */
export interface OriginPolicy {
  /** Origins allowed besides the page's own; `*` allows any. */
  readonly allowedOrigins: readonly string[];
  /** Refuse requests without an Origin header (non-browser clients). */
  readonly requireOrigin: boolean;
}

/** The verdict, with the reason logged on refusal. */
export type OriginDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string };

/**
 * Decides whether a request with `origin` (the Origin header) to the page
 * at `pageOrigin` (scheme, host and port of the request) may upgrade. The
 * page's own origin is always allowed; the same host under another scheme
 * or port is another origin.
 */
export function checkOrigin(
  origin: string | undefined,
  pageOrigin: string,
  policy: OriginPolicy,
): OriginDecision {
  if (origin === undefined) {
    return policy.requireOrigin
      ? { ok: false, reason: "no Origin header and CHAT_REQUIRE_ORIGIN is on" }
      : { ok: true };
  }
  if (policy.allowedOrigins.includes("*")) return { ok: true };
  let url: URL;
  try {
    url = new URL(origin);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return {
      ok: false,
      reason: `${JSON.stringify(origin)} is not a URL`,
    };
  }
  if (url.origin === pageOrigin) return { ok: true };
  if (policy.allowedOrigins.includes(url.origin)) return { ok: true };
  return {
    ok: false,
    reason:
      `${url.origin} is neither this page's origin (${pageOrigin}) nor in ALLOWED_ORIGINS`,
  };
}

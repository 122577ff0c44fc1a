/**
 * The headers every answer carries: a strict Content-Security-Policy (no
 * inline code, nothing from elsewhere), and who may show the pages in a
 * frame (`frame-ancestors`, with the legacy `X-Frame-Options` beside it).
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

/**
 * The Content-Security-Policy: pages load only their own script and
 * stylesheet and connect only to their own origin ('self' covers ws: and
 * wss: of the same host). `frameAncestors` are the origins that may frame
 * them; none: `'none'`.
 */
export function contentSecurityPolicy(frameAncestors: readonly string[]) {
  return {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    connectSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: frameAncestors.length === 0
      ? ["'none'"]
      : [...frameAncestors],
  };
}

/**
 * The middleware that sets them. With no frame ancestors, `X-Frame-Options:
 * DENY` for browsers older than `frame-ancestors`; with some, none at all:
 * that header can name no other origin (`ALLOW-FROM` is ignored by every
 * current browser, `SAMEORIGIN` would refuse the sites listed), and browsers
 * that know `frame-ancestors` ignore it anyway.
 */
export function securityHeaders(
  frameAncestors: readonly string[],
): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: contentSecurityPolicy(frameAncestors),
    referrerPolicy: "same-origin",
    xFrameOptions: frameAncestors.length === 0 ? "DENY" : false,
    // A route may relax one on purpose (the client library is for
    // every site to import).
    overwrite: false,
  });
}

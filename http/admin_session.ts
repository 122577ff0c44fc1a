/**
 * The admin console's session: a cookie signed with Hono's cookie helper
 * (HMAC-SHA-256), `HttpOnly; SameSite=Strict; Path=/admin`, `Secure` when
 * the console is served over https, carrying who signed in and until when
 * (checked here as well as by the browser, so a copied cookie stops working
 * at its expiry). Its key is the setting `CHAT_ADMIN_SESSION_SECRET`, or
 * derived with HKDF from the API key or the token secret, so every worker
 * and process of one deployment agrees on it without another setting;
 * failing both it is random per process. Also the Origin check that every
 * change (POST, DELETE) of the console passes.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { parseIp, type TrustedProxies } from "../chat/address_range.ts";
import { peerAddress } from "./client_address.ts";

/** The cookie's name. */
export const ADMIN_COOKIE = "chat_admin";

/** Where the console lives; the cookie is sent nowhere else. */
export const ADMIN_PATH = "/admin";

/** How long a session lasts, in ms: 12 hours. */
export const ADMIN_SESSION_MS = 12 * 60 * 60 * 1000;

/** Who is signed in to the console. */
export type AdminSession =
  | { readonly by: "key"; readonly expiresAt: number }
  | {
    readonly by: "token";
    readonly sub: string;
    readonly name: string;
    readonly expiresAt: number;
  };

/** The audit log's name for the person behind `session`. */
export function actorOf(session: AdminSession): string {
  return session.by === "key" ? "api-key" : session.name;
}

/** Where the cookie key came from, for the start-up log. */
export type AdminKeySource =
  | "CHAT_ADMIN_SESSION_SECRET"
  | "CHAT_API_KEY"
  | "CHAT_AUTH_SECRET"
  | "random";

/** The key that signs the session cookie, and where it came from. */
export interface AdminSessionKey {
  readonly key: Uint8Array<ArrayBuffer>;
  readonly source: AdminKeySource;
}

/** The secrets a session key may come from. */
export interface AdminKeySecrets {
  readonly adminSessionSecret?: string | undefined;
  readonly apiKey?: string | undefined;
  readonly authSecret?: string | undefined;
}

/** What HKDF mixes in, so this key differs from any other use of the secret. */
const HKDF_INFO = "deno-chat admin console session cookie v1";

/** 32 bytes derived from `secret` with HKDF-SHA-256. */
async function derive(secret: string): Promise<Uint8Array<ArrayBuffer>> {
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    "HKDF",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(32),
      info: new TextEncoder().encode(HKDF_INFO),
    },
    material,
    256,
  );
  return new Uint8Array(bits);
}

/**
 * The session key: the setting itself when given, else derived from the
 * API key, else from the token secret (the same in every worker and
 * process that shares the configuration), else random to this process.
 */
export async function adminSessionKey(
  secrets: AdminKeySecrets,
): Promise<AdminSessionKey> {
  if (secrets.adminSessionSecret !== undefined) {
    return {
      key: await derive(secrets.adminSessionSecret),
      source: "CHAT_ADMIN_SESSION_SECRET",
    };
  }
  if (secrets.apiKey !== undefined) {
    return { key: await derive(secrets.apiKey), source: "CHAT_API_KEY" };
  }
  if (secrets.authSecret !== undefined) {
    return {
      key: await derive(secrets.authSecret),
      source: "CHAT_AUTH_SECRET",
    };
  }
  return {
    key: crypto.getRandomValues(new Uint8Array(32)),
    source: "random",
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a cookie value this module wrote (signature already checked). */
function parseSession(text: string): AdminSession | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return undefined;
  }
  if (!isRecord(value) || typeof value.exp !== "number") return undefined;
  if (value.by === "key") return { by: "key", expiresAt: value.exp };
  if (
    value.by === "token" && typeof value.sub === "string" &&
    typeof value.name === "string"
  ) {
    return {
      by: "token",
      sub: value.sub,
      name: value.name,
      expiresAt: value.exp,
    };
  }
  return undefined;
}

/**
 * Whether the request reached us over https: directly, or through a
 * trusted proxy that says so with `X-Forwarded-Proto` (from anyone else
 * that header is ignored, as `X-Forwarded-For` is).
 */
export function isHttps(c: Context, proxies: TrustedProxies): boolean {
  if (new URL(c.req.url).protocol === "https:") return true;
  const peer = parseIp(peerAddress(c).replace(/^\[(.*)\]$/, "$1"));
  if (peer === undefined || !proxies.includes(peer)) return false;
  const proto = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim();
  return proto?.toLowerCase() === "https";
}

/** The origin the console's pages were served from, as the browser sees it. */
export function consoleOrigin(c: Context, proxies: TrustedProxies): string {
  const url = new URL(c.req.url);
  return `${isHttps(c, proxies) ? "https:" : url.protocol}//${url.host}`;
}

/** The origin of an `Origin` header's URL, or undefined for no URL. */
function originOf(text: string): string | undefined {
  try {
    return new URL(text).origin;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return undefined;
  }
}

/** The cookie's settings, the same when it is set and when it is cleared. */
function cookieOptions(secure: boolean) {
  return {
    path: ADMIN_PATH,
    httpOnly: true,
    sameSite: "Strict",
    secure,
  } as const;
}

/** The session cookie's signer and reader, with its key and clock. */
export class AdminSessions {
  readonly #key: Uint8Array<ArrayBuffer>;
  readonly #proxies: TrustedProxies;
  readonly #now: () => number;

  constructor(
    key: Uint8Array<ArrayBuffer>,
    proxies: TrustedProxies,
    now: () => number = Date.now,
  ) {
    this.#key = key;
    this.#proxies = proxies;
    this.#now = now;
  }

  /**
   * Sets the cookie for a session that lasts 12 hours, or until `notAfter`
   * (a token's expiry) when that comes first.
   */
  async start(
    c: Context,
    who: { by: "key" } | { by: "token"; sub: string; name: string },
    notAfter = Infinity,
  ): Promise<AdminSession> {
    const now = this.#now();
    const expiresAt = Math.min(now + ADMIN_SESSION_MS, notAfter);
    const session: AdminSession = { ...who, expiresAt };
    const value = JSON.stringify(
      who.by === "key"
        ? { by: "key", exp: expiresAt }
        : { by: "token", sub: who.sub, name: who.name, exp: expiresAt },
    );
    await setSignedCookie(c, ADMIN_COOKIE, value, this.#key, {
      ...cookieOptions(isHttps(c, this.#proxies)),
      maxAge: Math.max(1, Math.floor((expiresAt - now) / 1000)),
      expires: new Date(expiresAt),
    });
    return session;
  }

  /** The session the request's cookie carries, if signed by us and not over. */
  async read(c: Context): Promise<AdminSession | undefined> {
    const value = await getSignedCookie(c, this.#key, ADMIN_COOKIE);
    if (typeof value !== "string") return undefined;
    const session = parseSession(value);
    if (session === undefined || session.expiresAt <= this.#now()) {
      return undefined;
    }
    return session;
  }

  /** Clears the cookie (sign-out). */
  end(c: Context): void {
    deleteCookie(c, ADMIN_COOKIE, cookieOptions(isHttps(c, this.#proxies)));
  }

  /**
   * Refuses with 403 a change (any method but GET, HEAD and OPTIONS) whose
   * `Origin` is not the console's own, or that has none: a page of another
   * site cannot make a signed-in browser act.
   */
  sameOriginChanges(): MiddlewareHandler {
    return async (c, next) => {
      const method = c.req.method;
      if (method === "GET" || method === "HEAD" || method === "OPTIONS") {
        return await next();
      }
      const origin = c.req.header("origin");
      const own = consoleOrigin(c, this.#proxies);
      const given = origin === undefined ? undefined : originOf(origin);
      if (given !== own) {
        const reason = origin === undefined
          ? "the request has no Origin header"
          : `the request comes from ${
            given ?? JSON.stringify(origin)
          }, not from ${own}`;
        return c.json({ error: `Cross-site request refused: ${reason}` }, 403);
      }
      await next();
    };
  }
}

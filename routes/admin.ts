/**
 * The admin console at `/admin/`: sign-in with the API key (a form) or with
 * a signed identity whose role is `admin` (the page's script posts the
 * `#token=` of its URL), sign-out, and the console's pages, in the reader's
 * language. Every change passes the Origin check; the pages and the JSON
 * they read (`routes/admin_api.ts`) need the session cookie
 * (`http/admin_session.ts`). Without an API key and without signed
 * identities, `/admin/` says how to turn the console on and nothing else
 * answers.
 *
 * @module
 */

import { trimTrailingSlash } from "hono/trailing-slash";
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { timingSafeEqual } from "hono/utils/buffer";
import type { TrustedProxies } from "../chat/address_range.ts";
import type { TokenVerifier } from "../chat/identity.ts";
import type { Logger } from "../observability/log.ts";
import { actorOf, type AdminSessions } from "../http/admin_session.ts";
import {
  SIGN_IN_FAILURES,
  SIGN_IN_WINDOW_MS,
  type SignInLimit,
} from "../http/admin_sign_in_limit.ts";
import { clientAddress, peerAddress } from "../http/client_address.ts";
import { roomParam } from "../http/params.ts";
import { contentSecurityPolicy } from "../http/security_headers.ts";
import { adminMessagesFor } from "../templates/admin_messages.ts";
import {
  auditPage,
  disabledPage,
  overviewPage,
  roomPage,
  roomsPage,
  sanctionsPage,
  signInPage,
  type SignInWays,
} from "../templates/admin_pages.ts";
import { detectLanguage, requestLang } from "./pages.ts";
import { adminStaticRoutes } from "./admin_static.ts";

/** What the console's routes carry: the language of the pages. */
export interface AdminEnv {
  Variables: { language: string };
}

/** What the console needs. */
export interface AdminOptions {
  readonly sessions: AdminSessions;
  /** The server API key; undefined: no sign-in with a key. */
  readonly apiKey: string | undefined;
  /** Checks tokens; undefined: no sign-in with a token. */
  readonly verifier: TokenVerifier | undefined;
  /** Failed sign-ins per client address. */
  readonly signInLimit: SignInLimit;
  /** Reverse proxies believed about the client's address. */
  readonly proxies: TrustedProxies;
  readonly log: Logger;
  /** The JSON API under `/admin/api/`, behind the session. */
  readonly api: Hono<AdminEnv>;
}

/** The largest sign-in body read, in bytes (a key or a token). */
const MAX_SIGN_IN_BYTES = 16 * 1024;

/** Builds the `/admin` routes. */
export function adminRoutes(options: AdminOptions): Hono<AdminEnv> {
  const { sessions, apiKey, verifier, log, signInLimit, proxies } = options;
  const app = new Hono<AdminEnv>();
  const ways: SignInWays = {
    key: apiKey !== undefined,
    token: verifier !== undefined,
  };

  app.use("/admin", detectLanguage);
  app.use("/admin/*", detectLanguage);
  const headers: MiddlewareHandler = async (c, next) => {
    await next();
    // Scripts and styles revalidate by their ETag; the rest is never kept.
    if (!c.req.path.startsWith("/admin/static/")) {
      c.header("Cache-Control", "no-store");
    }
    c.header("Vary", "Accept-Language", { append: true });
  };
  // The console is never framed, whatever the chat pages allow.
  const unframed = secureHeaders({
    contentSecurityPolicy: contentSecurityPolicy([]),
    xFrameOptions: "DENY",
    referrerPolicy: "same-origin",
  });
  app.use("/admin", headers, unframed);
  app.use("/admin/*", headers, unframed);
  app.get("/admin", (c) => c.redirect("/admin/", 301));
  // `/admin/rooms/` as typed by hand finds `/admin/rooms` (only a 404 is
  // redirected, so `/admin/` itself stays).
  app.use("/admin/*", trimTrailingSlash());
  app.route("/", adminStaticRoutes());

  if (!ways.key && !ways.token) {
    app.get("/admin/", (c) => {
      const lang = requestLang(c);
      return c.html(disabledPage(lang, adminMessagesFor(lang)));
    });
    return app;
  }

  app.use("/admin/*", sessions.sameOriginChanges());

  const signedIn: MiddlewareHandler<AdminEnv> = async (c, next) => {
    const session = await sessions.read(c);
    if (session === undefined) {
      if (c.req.path.startsWith("/admin/api/")) {
        throw new HTTPException(401, {
          message: "Sign in to the admin console first",
        });
      }
      return c.redirect("/admin/", 303);
    }
    await next();
  };

  app.get("/admin/", async (c) => {
    const lang = requestLang(c);
    const t = adminMessagesFor(lang);
    const session = await sessions.read(c);
    if (session === undefined) return c.html(signInPage(lang, t, ways));
    return c.html(overviewPage(lang, t));
  });
  app.get("/admin/rooms", signedIn, (c) => {
    const lang = requestLang(c);
    return c.html(roomsPage(lang, adminMessagesFor(lang)));
  });
  app.get("/admin/rooms/:room", signedIn, (c) => {
    const room = roomParam(c.req.param("room"), "Cannot show room");
    const lang = requestLang(c);
    return c.html(roomPage(lang, adminMessagesFor(lang), room));
  });
  app.get("/admin/sanctions", signedIn, (c) => {
    const lang = requestLang(c);
    return c.html(sanctionsPage(lang, adminMessagesFor(lang)));
  });
  app.get("/admin/audit", signedIn, (c) => {
    const lang = requestLang(c);
    return c.html(auditPage(lang, adminMessagesFor(lang)));
  });

  app.post(
    "/admin/session",
    bodyLimit({
      maxSize: MAX_SIGN_IN_BYTES,
      onError: () => {
        throw new HTTPException(413, {
          message: `Body is larger than ${MAX_SIGN_IN_BYTES} bytes`,
        });
      },
    }),
    async (c) => {
      const form = await c.req.parseBody();
      const { key, token } = form;
      const by = typeof token === "string" ? "token" : "key";
      // The limit keys on the client, not on the proxy in front of it.
      const peer = peerAddress(c);
      const ip = clientAddress(peer, c.req.raw.headers, proxies);
      const via = ip === peer ? {} : { peer };
      const wait = signInLimit.retryAfterSeconds(ip);
      if (wait > 0) {
        // Refused unread, the right key too: else guessing goes on.
        c.header("Retry-After", String(wait));
        if (by === "token") {
          return c.json({
            error:
              `Not signed in: too many failed sign-ins from your address (at most ${SIGN_IN_FAILURES} in ${
                SIGN_IN_WINDOW_MS / 1000
              } s); try again in ${wait} s`,
          }, 429);
        }
        const lang = requestLang(c);
        const t = adminMessagesFor(lang);
        return c.html(signInPage(lang, t, ways, t.tooManySignIns(wait)), 429);
      }
      const failed = (reason?: string) => {
        log.warn("admin.sign_in_refused", {
          by,
          ...(reason === undefined ? {} : { reason }),
          ip,
          ...via,
        });
        if (signInLimit.fail(ip)) {
          log.warn("admin.sign_in_locked", {
            ip,
            ...via,
            failures: SIGN_IN_FAILURES,
            retryAfterS: signInLimit.retryAfterSeconds(ip),
          });
        }
      };
      if (typeof token === "string") {
        const check = verifier === undefined
          ? { ok: false, reason: "sign-in with a token is off" } as const
          : await verifier.verify(token);
        if (!check.ok || check.identity.role !== "admin") {
          const reason = check.ok
            ? "the token does not give the admin role"
            : check.reason;
          failed(reason);
          return c.json({ error: `Not signed in: ${reason}` }, 401);
        }
        const { sub, name, expiresAt } = check.identity;
        await sessions.start(c, { by: "token", sub, name }, expiresAt);
        log.info("admin.signed_in", { by: "token", sub });
        return c.json({ signedIn: name });
      }
      const given = typeof key === "string" ? key : "";
      // Compares SHA-256 digests, so keys of any length take the same time.
      if (apiKey === undefined || !await timingSafeEqual(given, apiKey)) {
        failed();
        const lang = requestLang(c);
        const t = adminMessagesFor(lang);
        return c.html(signInPage(lang, t, ways, t.wrongKey), 401);
      }
      await sessions.start(c, { by: "key" });
      log.info("admin.signed_in", { by: "key" });
      return c.redirect("/admin/", 303);
    },
  );

  app.post("/admin/signout", async (c) => {
    const session = await sessions.read(c);
    sessions.end(c);
    if (session) log.info("admin.signed_out", { actor: actorOf(session) });
    return c.redirect("/admin/", 303);
  });

  app.use("/admin/api/*", signedIn);
  app.route("/admin", options.api);
  return app;
}

/**
 * The composition root: builds the hub, the fan-out bus and the Hono app
 * from a {@linkcode Config}. Entry points (`main.ts`, tests, benchmarks)
 * call {@linkcode createChatServer} and decide how to listen.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { createBroadcastChannelBus } from "./chat/broadcast_channel_bus.ts";
import type { Bus } from "./chat/bus.ts";
import { ChatHub } from "./chat/hub.ts";
import { openSqliteStore } from "./chat/sqlite_store.ts";
import type { Store } from "./chat/store.ts";
import type { Config } from "./config.ts";
import { createLogger, type Logger } from "./log.ts";
import { apiRoutes } from "./routes/api.ts";
import { chatSocketRoutes } from "./routes/chat_ws.ts";
import { detectLanguage, pageRoutes, requestLang } from "./routes/pages.ts";
import { staticRoutes } from "./routes/static_files.ts";
import { errorPage } from "./templates/error_page.ts";
import { messagesFor } from "./templates/messages.ts";

/** Replaceable parts, for tests and for other deployments. */
export interface ChatServerOptions {
  readonly config: Config;
  /** @default a BroadcastChannel bus */
  readonly bus?: Bus;
  /** @default the SQLite store at `config.db` */
  readonly store?: Store;
  /** @default a JSON-lines logger at `config.logLevel` */
  readonly log?: Logger;
  /** Clock for message timestamps. @default () => new Date() */
  readonly now?: () => Date;
}

/** A built server: the request handler and what it owns. */
export interface ChatServer {
  readonly app: Hono;
  readonly hub: ChatHub;
  readonly store: Store;
  readonly log: Logger;
  /** The handler for `Deno.serve` and `deno serve`. */
  readonly fetch: (request: Request) => Response | Promise<Response>;
  /** Stops the hub (leaving presence) and closes the store. */
  close(): Promise<void>;
}

// Pages load only their own script and stylesheet, and connect only to their
// own origin (CSP 'self' covers ws: and wss: of the same host).
const contentSecurityPolicy = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  connectSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** Builds the whole server from its configuration. */
export function createChatServer(options: ChatServerOptions): ChatServer {
  const { config } = options;
  const log = options.log ?? createLogger({ level: config.logLevel });
  const store = options.store ?? openSqliteStore({
    path: config.db,
    historyMax: config.historyMax,
    presenceTtlMs: config.presenceTtlMs,
  });
  const hub = new ChatHub({
    bus: options.bus ?? createBroadcastChannelBus(),
    store,
    log,
    historyLimit: config.historyLimit,
    recoveryLimit: config.recoveryLimit,
    repairIntervalMs: config.repairIntervalMs,
    presenceHeartbeatMs: config.presenceHeartbeatMs,
    ...(options.now ? { now: options.now } : {}),
  });

  const app = new Hono();
  app.route(
    "/",
    chatSocketRoutes({
      hub,
      log,
      limits: { maxMessageChars: config.maxMessageChars },
    }),
  );
  app.use(
    secureHeaders({
      contentSecurityPolicy,
      referrerPolicy: "same-origin",
      xFrameOptions: "DENY",
    }),
  );
  app.route("/", apiRoutes(store));
  app.route("/", staticRoutes());
  app.route("/", pageRoutes());

  const respondWithError = (
    c: Context,
    status: ContentfulStatusCode,
    detail: string,
  ) => {
    const path = c.req.path;
    if (path.startsWith("/ws/") || path.startsWith("/api/")) {
      return c.json({ error: detail }, status);
    }
    const lang = requestLang(c);
    return c.html(errorPage(status, detail, lang, messagesFor(lang)), status);
  };

  app.notFound(async (c) => {
    await detectLanguage(c, () => Promise.resolve());
    return respondWithError(c, 404, `Nothing here: ${c.req.path}`);
  });
  app.onError(async (error, c) => {
    await detectLanguage(c, () => Promise.resolve());
    if (error instanceof HTTPException && error.status < 500) {
      return respondWithError(c, error.status, error.message);
    }
    log.error("request.failed", {
      method: c.req.method,
      path: c.req.path,
      error,
    });
    return respondWithError(c, 500, "Internal server error");
  });

  return {
    app,
    hub,
    store,
    log,
    fetch: (request) => app.fetch(request),
    close: async () => {
      try {
        await hub.close();
      } finally {
        store.close();
      }
    },
  };
}

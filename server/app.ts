/**
 * The composition root: builds the hub, the metrics and the Hono app from a
 * {@linkcode Config}, around the store, bus and token verifier that
 * `backends.ts` opens (SQLite and BroadcastChannel by default, Redis for
 * both when `REDIS_URL` is set). Entry points (`main.ts`, `serve.ts`, the workers,
 * tests, benchmarks) call {@linkcode createChatServer} and decide how to
 * listen.
 *
 * @module
 */

import { Hono } from "hono";
import type { Bus } from "../chat/bus.ts";
import { ChatHub } from "../chat/hub.ts";
import { instrumentStore } from "../observability/instrumented_store.ts";
import type { SharedBucketTable } from "../chat/shared_buckets.ts";
import type { Store } from "../chat/store.ts";
import type { Config } from "./settings.ts";
import { createLogger, type Logger } from "../observability/log.ts";
import { createPrometheusMetrics } from "../observability/metrics.ts";
import {
  METRICS_CONTENT_TYPE,
  type MetricsSnapshot,
} from "../observability/series.ts";
import { apiRoutes } from "../routes/api.ts";
import { chatSocketRoutes } from "../routes/chat_ws.ts";
import { CloseCode } from "../client/protocol.js";
import {
  type ConnectionLimiter,
  type ConnectionLimits,
  ConnectionTracker,
  CountingLimiter,
} from "../http/connections.ts";
import { hostGuard } from "../http/hosts.ts";
import { securityHeaders } from "../http/security_headers.ts";
import { type OpsOptions, opsRoutes } from "../routes/ops.ts";
import { adminConsole } from "./admin_console.ts";
import { serverApiRoutes } from "../routes/server_api.ts";
import { pageRoutes } from "../routes/pages.ts";
import { clientLibraryRoutes } from "../routes/client_library.ts";
import { staticRoutes } from "../routes/static_files.ts";
import { createTimedTurnPacer } from "../http/turn_pacer.ts";
import { finishedWithin } from "../platform/deadline.ts";
import { openBus, openStore, openTokenVerifier } from "./backends.ts";
import { answerErrors } from "./error_responses.ts";
import { openPublishHook } from "./publish_hook.ts";
import { startWebhooks, webhooksOn } from "./webhooks.ts";

/** Replaceable parts, for tests and for other deployments. */
export interface ChatServerOptions {
  readonly config: Config;
  /** @default Redis pub/sub with `config.redisUrl`, else a BroadcastChannel bus */
  readonly bus?: Bus;
  /** @default the Redis store with `config.redisUrl`, else SQLite at `config.db` */
  readonly store?: Store;
  /** @default a JSON-lines logger at `config.logLevel` */
  readonly log?: Logger;
  /** Clock for message timestamps. @default () => new Date() */
  readonly now?: () => Date;
  /**
   * Clock of the admin console's sessions and sign-in limit, in ms.
   * @default Date.now
   */
  readonly consoleNow?: () => number;
  /**
   * Picks the name of a client that gives none; called again when the
   * pick is already online in the room. @default a random `guest-xxxx`
   */
  readonly guestNames?: () => string;
  /**
   * Set when this server is one of the workers of a process: what they
   * share through the main thread. @default this isolate counts for itself
   */
  readonly peers?: WorkerPeers;
  /**
   * The only isolate of its process (`deno run main.ts` without
   * `--workers`): without Redis its messages are published nowhere.
   * @default false, other isolates may share its rooms
   */
  readonly alone?: boolean;
}

/** What the workers of one process share through its main thread. */
export interface WorkerPeers {
  /** Counts connections for the whole process. */
  readonly limiter: ConnectionLimiter;
  /** Open connections in the whole process. */
  connectionCount(): Promise<number>;
  /** The `/metrics` text of the whole process. */
  renderMetrics(): Promise<string>;
  /** The message budgets per client address, in memory all workers share. */
  readonly rateTable: SharedBucketTable;
  /** This worker's place (0 reports what all share, such as the outbox). */
  readonly index?: number;
}

/** A built server: the request handler and what it owns. */
export interface ChatServer {
  readonly app: Hono;
  readonly hub: ChatHub;
  readonly store: Store;
  readonly bus: Bus;
  readonly log: Logger;
  /** This server's metrics as data, for the main thread to merge. */
  metricsSnapshot(): Promise<MetricsSnapshot>;
  /** The handler for `Deno.serve` and `deno serve`. */
  readonly fetch: (
    request: Request,
    info?: Deno.ServeHandlerInfo,
  ) => Response | Promise<Response>;
  /**
   * Refuses new sockets and closes open ones with 1001; resolves once every
   * peer has answered, or after a second. Idempotent. Shut the listener
   * down only after this: Deno's listener shutdown tears down the sockets
   * still open, and a peer with a frame on its way then sees its
   * connection fail instead of the 1001.
   */
  closeSockets(): Promise<void>;
  /**
   * Shuts down: {@linkcode closeSockets}, leaves presence, closes the bus
   * subscriptions and the store. Idempotent.
   */
  close(): Promise<void>;
}

/** How long shutdown waits for peers to answer the 1001 close. */
const CLOSE_HANDSHAKE_WAIT_MS = 1000;

/** URLs longer than this are refused with 414 before any routing. */
export const MAX_URL_LENGTH = 8192;

/**
 * Admissions (name claim, history, list of who is online) started in one
 * turn of the event loop, in ms: past it the next waits for a later turn,
 * so a crowd reconnecting at once delays another room's messages by about
 * this much rather than by all of its admissions.
 */
const ADMISSION_MS_PER_TURN = 5;

/** The connection limits, as the configuration sets them. */
export function connectionLimits(config: Config): ConnectionLimits {
  return {
    maxPerIp: config.maxConnectionsPerIp,
    maxTotal: config.maxConnections,
    connectRate: { rate: config.connectRate, burst: config.connectBurst },
  };
}

/**
 * Builds the whole server from its configuration. Rejects with a
 * StoreError when the store or the bus cannot be opened.
 */
export async function createChatServer(
  options: ChatServerOptions,
): Promise<ChatServer> {
  const { config } = options;
  const log = options.log ?? createLogger({ level: config.logLevel });
  const { peers } = options;
  // Keys first: a key that cannot be used stops the start before any store
  // is opened.
  const verifier = config.auth === "off"
    ? undefined
    : await openTokenVerifier(config);
  const rawStore = options.store ?? await openStore(config, log);
  let bus: Bus;
  try {
    bus = options.bus ?? await openBus(config, log, options.alone);
  } catch (error) {
    await rawStore.close();
    throw error;
  }
  const prometheus = createPrometheusMetrics({
    processMetrics: !peers,
    webhooks: webhooksOn(config),
  });
  const metrics = prometheus.metrics;
  const store = instrumentStore(rawStore, metrics);
  let webhooks;
  try {
    webhooks = startWebhooks(config, store, {
      log,
      metrics: prometheus.webhooks,
      reportsBacklog: (peers?.index ?? 0) === 0,
    });
  } catch (error) {
    await Promise.all([bus.close(), store.close()]);
    throw error;
  }
  const publishHook = openPublishHook(config, log, metrics);
  const hub = new ChatHub({
    bus,
    store,
    log,
    metrics,
    historyLimit: config.historyLimit,
    recoveryLimit: config.recoveryLimit,
    repairIntervalMs: config.repairIntervalMs,
    presenceHeartbeatMs: config.presenceHeartbeatMs,
    historyMaxAgeMs: config.historyMaxAgeMs,
    presenceListMax: config.presenceListMax,
    editWindowMs: config.editWindowS * 1000,
    paceAdmission: createTimedTurnPacer(ADMISSION_MS_PER_TURN),
    publishHook,
    ...(options.now ? { now: options.now } : {}),
  });
  const connections = new ConnectionTracker(
    peers?.limiter ?? new CountingLimiter(connectionLimits(config)),
  );
  prometheus.watch({
    rooms: () => hub.stats().rooms,
    members: () => hub.stats().members,
    connections: () => connections.size,
  });

  const app = new Hono();
  // First, so that every answer carries them, refusals (400 Host, 414)
  // and errors included.
  app.use(securityHeaders(config.frameAncestors));
  app.use(hostGuard(config.allowedHosts));
  app.use(async (c, next) => {
    if (c.req.url.length > MAX_URL_LENGTH) {
      return c.json(
        { error: `URL is longer than ${MAX_URL_LENGTH} characters` },
        414,
      );
    }
    await next();
  });
  app.route(
    "/",
    chatSocketRoutes({
      hub,
      log,
      metrics,
      connections,
      limits: { maxMessageChars: config.maxMessageChars },
      origin: {
        allowedOrigins: config.allowedOrigins,
        requireOrigin: config.requireOrigin,
      },
      maxFrameBytes: config.maxFrameBytes,
      reservedNames: config.reservedNames,
      rate: { rate: config.rateLimit, burst: config.rateBurst },
      addressRate: {
        rate: config.addressRateLimit,
        burst: config.addressRateBurst,
      },
      ...(peers ? { rateTable: peers.rateTable } : {}),
      maxBufferedBytes: config.maxBufferedBytes,
      idleTimeoutS: config.idleTimeoutS,
      trustedProxies: config.trustedProxies,
      ...(options.guestNames ? { guestNames: options.guestNames } : {}),
      identity: {
        mode: config.auth,
        ...(verifier ? { verifier } : {}),
      },
    }),
  );
  const ops: OpsOptions = {
    store,
    bus,
    log,
    metrics: peers
      ? { render: peers.renderMetrics, contentType: METRICS_CONTENT_TYPE }
      : prometheus,
    stats: async () => ({
      rooms: (await store.presence.rooms()).length,
      connections: peers ? await peers.connectionCount() : connections.size,
    }),
    ...(webhooks ? { webhooks: () => webhooks.status() } : {}),
  };
  app.route("/", opsRoutes(ops));
  app.route(
    "/",
    await adminConsole(config, {
      ops,
      hub,
      verifier,
      log,
      rateTable: peers?.rateTable,
      ...(options.consoleNow ? { now: options.consoleNow } : {}),
    }),
  );
  app.route(
    "/",
    serverApiRoutes({
      hub,
      log,
      apiKey: config.apiKey,
      maxMessageChars: config.maxMessageChars,
      maxBodyBytes: config.maxFrameBytes,
    }),
  );
  app.route(
    "/",
    apiRoutes(store, {
      mode: config.auth,
      ...(verifier ? { verifier } : {}),
      ...(config.apiKey === undefined ? {} : { apiKey: config.apiKey }),
    }),
  );
  app.route("/", staticRoutes());
  app.route("/", clientLibraryRoutes());
  app.route(
    "/",
    pageRoutes({ auth: config.auth, frameAncestors: config.frameAncestors }),
  );

  answerErrors(app, log);

  let socketsClosing: Promise<void> | undefined;
  const closeSockets = () => {
    socketsClosing ??= (async () => {
      const socketsClosed = connections.closeAll(
        CloseCode.GoingAway,
        "Server shutting down",
      );
      // Live peers answer the close within milliseconds; one that vanished
      // without a word never will, and must not hold the exit.
      await finishedWithin(socketsClosed, CLOSE_HANDSHAKE_WAIT_MS);
    })();
    return socketsClosing;
  };

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const socketsClosed = closeSockets();
      publishHook?.close();
      // Before the store: its attempts end their leases there.
      await webhooks?.close();
      try {
        await hub.close();
      } catch (error) {
        // A broken store must not stop the shutdown; this node's presence
        // entries then expire with their TTL.
        log.error("server.close_failed", { error });
      } finally {
        await Promise.all([bus.close(), store.close()]);
      }
      await socketsClosed;
    })();
    return closing;
  };

  return {
    app,
    hub,
    store,
    bus,
    log,
    metricsSnapshot: () => prometheus.snapshot(),
    fetch: (request, info) => app.fetch(request, info),
    closeSockets,
    close,
  };
}

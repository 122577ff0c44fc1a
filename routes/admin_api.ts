/**
 * The JSON the admin console's pages read and the changes they make, under
 * `/admin/api/` behind the console's session (`routes/admin.ts` checks it
 * and the Origin of every change): `GET /admin/api/overview` (the
 * server's figures and health), the room list, a room's messages and who
 * is online (the public API's own handlers, every room readable), and
 * the server API's moderation (delete, disconnect, mutes, bans, the audit
 * log) with the signed-in person as its actor.
 *
 * @module
 */

import { Hono, type MiddlewareHandler } from "hono";
import type { ChatHub } from "../chat/hub.ts";
import type { Store } from "../chat/store.ts";
import {
  counterRate,
  expositionTotals,
} from "../observability/exposition_totals.ts";
import type { Logger } from "../observability/log.ts";
import { within } from "../platform/deadline.ts";
import { apiRoutes } from "./api.ts";
import type { AdminEnv } from "./admin.ts";
import { moderationRoutes, type ModeratorEnv } from "./moderation_api.ts";
import type { OpsOptions } from "./ops.ts";

/** What the console's API reads. */
export interface AdminApiOptions
  extends Pick<OpsOptions, "store" | "bus" | "stats" | "metrics" | "webhooks"> {
  readonly hub: ChatHub;
  readonly log: Logger;
  /** Names the signed-in person as the actor of a change, or refuses (401). */
  readonly authorise: MiddlewareHandler<ModeratorEnv>;
  /** The largest request body, in bytes, as for the server API. */
  readonly maxBodyBytes: number;
  /** Which store holds rooms and presence, as the overview names it. */
  readonly backend: "sqlite" | "redis";
  /** How long a health check may take. @default 2000 */
  readonly healthTimeoutMs?: number;
}

/** A part's health: fine, or why not. */
type Health = { ok: true } | { ok: false; error: string };

async function health(
  check: () => Promise<void>,
  timeoutMs: number,
  what: string,
): Promise<Health> {
  try {
    await within(check(), timeoutMs, what);
    return { ok: true };
  } catch (error) {
    return {
      ok: false,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** Builds the `/api/…` routes the console mounts under `/admin`. */
export function adminApiRoutes(
  options: AdminApiOptions,
): Hono<AdminEnv> {
  const { hub, log } = options;
  const app = new Hono<AdminEnv>();
  const started = Date.now();
  const rate = counterRate();
  // The first reading is the start, so the first answer has a rate too.
  rate(0, started);
  const timeoutMs = options.healthTimeoutMs ?? 2000;
  const store: Store = options.store;

  app.get("/api/overview", async (c) => {
    const [storeHealth, busHealth, text] = await Promise.all([
      health(() => store.ping(), timeoutMs, "store"),
      health(() => options.bus.ping(), timeoutMs, "bus"),
      options.metrics.render(),
    ]);
    let stats;
    try {
      stats = storeHealth.ok
        ? await within(options.stats(), timeoutMs, "store")
        : undefined;
    } catch (error) {
      // The figures that do not need the store are worth answering with.
      log.warn("admin.overview_stats_failed", { error });
    }
    const totals = expositionTotals(text);
    const received = totals.get("chat_messages_received_total") ?? 0;
    const webhooks = options.webhooks?.();
    return c.json({
      connections: stats?.connections ?? totals.get("chat_connections") ??
        null,
      rooms: stats?.rooms ?? null,
      messagesReceived: received,
      messagesPerSecond: rate(received, Date.now()) ?? null,
      memory: {
        residentBytes: totals.get("process_resident_memory_bytes") ?? null,
        heapUsedBytes: totals.get("process_heap_used_bytes") ?? null,
      },
      descriptors: {
        open: totals.get("process_open_fds") ?? null,
        limit: totals.get("process_max_fds") ?? null,
      },
      store: { backend: options.backend, ...storeHealth },
      bus: {
        backend: options.backend === "redis" ? "redis" : "local",
        ...busHealth,
      },
      webhooks: webhooks === undefined ? null : {
        pending: webhooks.pending,
        oldestPendingSeconds: webhooks.oldestAt === undefined
          ? 0
          : Math.max(0, Math.round((Date.now() - webhooks.oldestAt) / 1000)),
        failing: webhooks.failing,
      },
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
    });
  });

  // The public reads, with every room readable: the session is the admin's.
  app.route("/", apiRoutes(store));

  // Delete, disconnect, mutes, bans and the audit log: the server API's
  // own handlers, the actor named by the session.
  app.route(
    "/api",
    moderationRoutes({
      hub,
      log,
      authorise: options.authorise,
      maxBodyBytes: options.maxBodyBytes,
    }),
  );

  return app;
}

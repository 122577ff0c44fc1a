/**
 * Operations endpoints: `/healthz` for load balancers and orchestrators,
 * `/metrics` for Prometheus.
 *
 * @module
 */

import { Hono } from "hono";
import type { Bus } from "../chat/bus.ts";
import { type Store, StoreError } from "../chat/store.ts";
import type { Logger } from "../observability/log.ts";
import { within } from "../platform/deadline.ts";

/** What the operations routes read. */
export interface OpsOptions {
  readonly store: Store;
  /** The fan-out bus, checked too when it is a network one. */
  readonly bus: Bus;
  readonly log: Logger;
  /** Live counts for the health answer: rooms with people online, sockets. */
  readonly stats: () => Promise<{ rooms: number; connections: number }>;
  /** The Prometheus exposition and its content type. */
  readonly metrics: { render(): Promise<string>; contentType: string };
  /**
   * The webhook outbox's backlog and the receivers failing now, reported by
   * the health answer (a receiver down leaves the chat healthy); absent
   * with webhooks off.
   */
  readonly webhooks?: () => {
    pending: number;
    oldestAt: number | undefined;
    failing: string[];
  };
  /** How long the store may take to answer a health check. @default 2000 */
  readonly healthTimeoutMs?: number;
}

/** Builds `/healthz` and `/metrics`. */
export function opsRoutes(options: OpsOptions): Hono {
  const app = new Hono();
  const started = Date.now();

  app.get("/healthz", async (c) => {
    c.header("Cache-Control", "no-store");
    let stats;
    let part = "store";
    try {
      const timeoutMs = options.healthTimeoutMs ?? 2000;
      await within(options.store.ping(), timeoutMs, "store");
      stats = await within(options.stats(), timeoutMs, "store");
      part = "bus";
      await within(options.bus.ping(), timeoutMs, "bus");
    } catch (error) {
      const reason = `${part}: ${
        error instanceof Error ? error.message : String(error)
      }`;
      const kind = error instanceof StoreError ? error.kind : "other";
      options.log.warn("health.failed", { reason, [part]: kind });
      // Damaged data does not come back by itself, unlike the rest.
      const status = kind === "corrupt" ? "corrupt" : "unavailable";
      return c.json({ status, [part]: kind, reason }, 503);
    }
    const webhooks = options.webhooks?.();
    return c.json({
      status: "ok",
      store: "ok",
      bus: "ok",
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      ...stats,
      ...(webhooks === undefined ? {} : {
        webhooks: {
          pending: webhooks.pending,
          oldestPendingSeconds: webhooks.oldestAt === undefined
            ? 0
            : Math.max(0, Math.round((Date.now() - webhooks.oldestAt) / 1000)),
          failing: webhooks.failing,
        },
      }),
    });
  });

  app.get("/metrics", async (c) => {
    return c.body(await options.metrics.render(), 200, {
      "Content-Type": options.metrics.contentType,
      "Cache-Control": "no-store",
    });
  });

  return app;
}

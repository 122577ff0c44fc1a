/**
 * A {@linkcode Store} decorator that reports the latency and failures of
 * every call, so any backend is measured the same way.
 *
 * @module
 */

import type { ChatMetrics } from "../chat/metrics.ts";
import type { ModerationStore } from "../chat/moderation_store.ts";
import {
  type MessageStore,
  type PresenceStore,
  type Store,
  StoreError,
} from "../chat/store.ts";

type AsyncMethods<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R>
    ? (...args: A) => Promise<R>
    : never;
};

function timed<A extends unknown[], R>(
  operation: string,
  call: (...args: A) => Promise<R>,
  metrics: ChatMetrics,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const started = performance.now();
    try {
      const result = await call(...args);
      metrics.storeCall(operation, (performance.now() - started) / 1000, true);
      return result;
    } catch (error) {
      metrics.storeCall(operation, (performance.now() - started) / 1000, false);
      metrics.storeFailed(
        operation,
        error instanceof StoreError ? error.kind : "other",
      );
      throw error;
    }
  };
}

/** Wraps `store` so that each call is timed into `metrics`. */
export function instrumentStore(store: Store, metrics: ChatMetrics): Store {
  const m = store.messages;
  const p = store.presence;
  const messages: AsyncMethods<MessageStore> = {
    append: timed("append", (...a) => m.append(...a), metrics),
    latest: timed("latest", (...a) => m.latest(...a), metrics),
    after: timed("after", (...a) => m.after(...a), metrics),
    before: timed("before", (...a) => m.before(...a), metrics),
    bounds: timed("bounds", (...a) => m.bounds(...a), metrics),
    positions: timed("positions", (...a) => m.positions(...a), metrics),
    remove: timed("remove", (...a) => m.remove(...a), metrics),
    expire: timed("expire", (...a) => m.expire(...a), metrics),
    recent: timed("recent", (...a) => m.recent(...a), metrics),
  };
  const presence: AsyncMethods<PresenceStore> = {
    join: timed("presence_join", (...a) => p.join(...a), metrics),
    leave: timed("presence_leave", (...a) => p.leave(...a), metrics),
    list: timed("presence_list", (...a) => p.list(...a), metrics),
    count: timed("presence_count", (...a) => p.count(...a), metrics),
    connections: timed(
      "presence_connections",
      (...a) => p.connections(...a),
      metrics,
    ),
    rooms: timed("presence_rooms", (...a) => p.rooms(...a), metrics),
    heartbeat: timed(
      "presence_heartbeat",
      (...a) => p.heartbeat(...a),
      metrics,
    ),
    sweep: timed("presence_sweep", (...a) => p.sweep(...a), metrics),
    removeNode: timed(
      "presence_remove_node",
      (...a) => p.removeNode(...a),
      metrics,
    ),
  };
  const d = store.moderation;
  const moderation: AsyncMethods<ModerationStore> = {
    impose: timed("moderation_impose", (...a) => d.impose(...a), metrics),
    lift: timed("moderation_lift", (...a) => d.lift(...a), metrics),
    addAddress: timed(
      "moderation_add_address",
      (...a) => d.addAddress(...a),
      metrics,
    ),
    list: timed("moderation_list", (...a) => d.list(...a), metrics),
    // Every upgrade asks it.
    find: timed("moderation_find", (...a) => d.find(...a), metrics),
    audit: timed("moderation_audit", (...a) => d.audit(...a), metrics),
    auditLog: timed(
      "moderation_audit_log",
      (...a) => d.auditLog(...a),
      metrics,
    ),
    purge: timed("moderation_purge", (...a) => d.purge(...a), metrics),
  };
  return {
    messages,
    presence,
    // Read by the webhook sender, off the message path: not timed.
    ...(store.outbox === undefined ? {} : { outbox: store.outbox }),
    conversation: store.conversation,
    moderation,
    ping: timed("ping", () => store.ping(), metrics),
    close: () => store.close(),
  };
}

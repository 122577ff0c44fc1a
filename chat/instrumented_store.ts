/**
 * A {@linkcode Store} decorator that reports the latency and failures of
 * every call, so any backend is measured the same way.
 *
 * @module
 */

import type { ChatMetrics } from "./metrics.ts";
import {
  type MessageStore,
  type PresenceStore,
  type Store,
  StoreError,
} from "./store.ts";

/**
 * Runs one store call and records how long it took and whether it failed.
 * Not an `async` function: this is on every message's path, and a promise
 * of its own would be one more object per message.
 */
function timed<R>(
  metrics: ChatMetrics,
  operation: string,
  call: () => Promise<R>,
): Promise<R> {
  const started = performance.now();
  let pending: Promise<R>;
  try {
    pending = call();
  } catch (error) {
    pending = Promise.reject(error);
  }
  return pending.then((result) => {
    metrics.storeCall(operation, (performance.now() - started) / 1000, true);
    return result;
  }, (error: unknown) => {
    metrics.storeCall(operation, (performance.now() - started) / 1000, false);
    metrics.storeFailed(
      operation,
      error instanceof StoreError ? error.kind : "other",
    );
    throw error;
  });
}

/** Wraps `store` so that each call is timed into `metrics`. */
export function instrumentStore(store: Store, metrics: ChatMetrics): Store {
  const m = store.messages;
  const p = store.presence;
  const messages: MessageStore = {
    append: (room, message) =>
      timed(metrics, "append", () => m.append(room, message)),
    latest: (room, limit) =>
      timed(metrics, "latest", () => m.latest(room, limit)),
    after: (room, afterId, limit) =>
      timed(metrics, "after", () => m.after(room, afterId, limit)),
    before: (room, beforeId, limit) =>
      timed(metrics, "before", () => m.before(room, beforeId, limit)),
    bounds: (room) => timed(metrics, "bounds", () => m.bounds(room)),
    lastIds: (rooms) => timed(metrics, "last_ids", () => m.lastIds(rooms)),
    remove: (room, id) => timed(metrics, "remove", () => m.remove(room, id)),
    expire: (before) => timed(metrics, "expire", () => m.expire(before)),
  };
  const presence: PresenceStore = {
    join: (room, user, node, owner) =>
      timed(metrics, "presence_join", () => p.join(room, user, node, owner)),
    leave: (room, user, node) =>
      timed(metrics, "presence_leave", () => p.leave(room, user, node)),
    list: (room, page) =>
      timed(metrics, "presence_list", () => p.list(room, page)),
    count: (room) => timed(metrics, "presence_count", () => p.count(room)),
    rooms: () => timed(metrics, "presence_rooms", () => p.rooms()),
    heartbeat: (node, entries) =>
      timed(metrics, "presence_heartbeat", () => p.heartbeat(node, entries)),
    sweep: () => timed(metrics, "presence_sweep", () => p.sweep()),
    removeNode: (node) =>
      timed(metrics, "presence_remove_node", () => p.removeNode(node)),
  };
  return {
    messages,
    presence,
    ping: () => timed(metrics, "ping", () => store.ping()),
    close: () => store.close(),
  };
}

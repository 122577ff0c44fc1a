/**
 * The {@linkcode PresenceStore} in SQLite: one `presence` row per room,
 * user and node (isolate) with its connection count, owner, the name's
 * {@linkcode nameKey} (a name is taken when another owner holds one that
 * looks like it) and the time its node last vouched for it. A heartbeat rewrites a node's rows; rows not
 * refreshed within the TTL are stale and swept, and the users who left with
 * them are returned for announcement.
 *
 * @module
 */

import type { SqliteDatabase } from "./sqlite_database.ts";
import { intField, roomField, type Row, textField } from "./sqlite_rows.ts";
import { nameKey } from "./name_key.ts";
import type {
  Departure,
  JoinResult,
  OnlineRoom,
  PresenceStore,
  PresentUser,
} from "./store.ts";

/** What {@linkcode openSqlitePresence} needs. */
export interface SqlitePresenceOptions {
  /** Presence entries not refreshed for this long (ms) are stale. */
  readonly ttlMs: number;
  /** The clock that `seen_at` is written and compared in. */
  readonly now: () => number;
}

/** The presence table of the open, migrated `database`. */
export function openSqlitePresence(
  database: SqliteDatabase,
  options: SqlitePresenceOptions,
): PresenceStore {
  const ttl = options.ttlMs;
  const now = options.now;
  const onlineCount = database.prepare(
    `SELECT COALESCE(SUM(connections), 0) AS n FROM presence
     WHERE room = ? AND user = ? AND seen_at > ?`,
  );
  const addConnection = database.prepare(
    `INSERT INTO presence (room, user, node, owner, name_key, connections,
       seen_at)
     VALUES (?, ?, ?, ?, ?, 1, ?)
     ON CONFLICT (room, user, node) DO UPDATE
     SET connections = connections + 1, seen_at = excluded.seen_at`,
  );
  const otherOwner = database.prepare(
    `SELECT 1 AS taken FROM presence
     WHERE room = ? AND name_key = ? AND owner != ? AND connections > 0
       AND seen_at > ? LIMIT 1`,
  );
  const removeConnection = database.prepare(
    `UPDATE presence SET connections = connections - 1
     WHERE room = ? AND user = ? AND node = ?`,
  );
  const dropEmpty = database.prepare(
    "DELETE FROM presence WHERE room = ? AND user = ? AND node = ? AND connections <= 0",
  );
  const listUsers = database.prepare(
    `SELECT user, SUM(connections) AS connections,
       MAX(owner LIKE 'signed:%') AS verified FROM presence
     WHERE room = ? AND seen_at > ? AND user > ?
     GROUP BY user ORDER BY user LIMIT ?`,
  );
  const countUsers = database.prepare(
    `SELECT COUNT(DISTINCT user) AS n FROM presence
     WHERE room = ? AND seen_at > ? AND connections > 0`,
  );
  const listRooms = database.prepare(
    `SELECT room, COUNT(DISTINCT user) AS online FROM presence
     WHERE seen_at > ? AND connections > 0 GROUP BY room ORDER BY room`,
  );
  const putEntry = database.prepare(
    `INSERT INTO presence (room, user, node, owner, name_key, connections,
       seen_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (room, user, node) DO UPDATE
     SET connections = connections + excluded.connections`,
  );
  const staleEntries = database.prepare(
    "SELECT DISTINCT room, user FROM presence WHERE seen_at <= ?",
  );
  const deleteStale = database.prepare(
    "DELETE FROM presence WHERE seen_at <= ?",
  );
  const nodeEntries = database.prepare(
    "SELECT DISTINCT room, user FROM presence WHERE node = ?",
  );
  const deleteNode = database.prepare("DELETE FROM presence WHERE node = ?");

  const isOnline = (room: string, user: string) =>
    intField(onlineCount.get(room, user, now() - ttl) ?? {}, "n") > 0;

  /** After entries were deleted: who of `candidates` is gone for good. */
  const departed = (candidates: Row[]): Departure[] =>
    candidates
      .map((row) => ({
        room: roomField(row, "room"),
        user: textField(row, "user"),
      }))
      .filter(({ room, user }) => !isOnline(room, user));

  return {
    join(room, user, node, owner): Promise<JoinResult> {
      const key = nameKey(user);
      return Promise.resolve(database.transaction(() => {
        if (otherOwner.get(room, key, owner, now() - ttl)) {
          return { taken: true };
        }
        const first = !isOnline(room, user);
        addConnection.run(room, user, node, owner, key, now());
        return { taken: false, first };
      }));
    },
    leave(room, user, node) {
      return Promise.resolve(database.transaction(() => {
        removeConnection.run(room, user, node);
        dropEmpty.run(room, user, node);
        return { last: !isOnline(room, user) };
      }));
    },
    list(room, { limit, after = "" }): Promise<PresentUser[]> {
      return Promise.resolve(
        listUsers.all(room, now() - ttl, after, limit).map((row) => ({
          name: textField(row, "user"),
          connections: intField(row, "connections"),
          verified: intField(row, "verified") === 1,
        })),
      );
    },
    count(room) {
      return Promise.resolve(
        intField(countUsers.get(room, now() - ttl) ?? {}, "n"),
      );
    },
    rooms(): Promise<OnlineRoom[]> {
      return Promise.resolve(
        listRooms.all(now() - ttl).map((row) => ({
          name: roomField(row, "room"),
          online: intField(row, "online"),
        })),
      );
    },
    heartbeat(node, entries) {
      return Promise.resolve(database.transaction(() => {
        const seenAt = now();
        deleteNode.run(node);
        for (const entry of entries) {
          putEntry.run(
            entry.room,
            entry.user,
            node,
            entry.owner,
            nameKey(entry.user),
            entry.connections,
            seenAt,
          );
        }
      }));
    },
    sweep() {
      return Promise.resolve(database.transaction(() => {
        const cutoff = now() - ttl;
        const candidates = staleEntries.all(cutoff);
        deleteStale.run(cutoff);
        return departed(candidates);
      }));
    },
    removeNode(node) {
      return Promise.resolve(database.transaction(() => {
        const candidates = nodeEntries.all(node);
        deleteNode.run(node);
        return departed(candidates);
      }));
    },
  };
}

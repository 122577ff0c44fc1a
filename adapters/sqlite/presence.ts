/**
 * The {@linkcode PresenceStore} in SQLite: one `presence` row per room,
 * user and node (isolate) with its connection count, owner, the name's
 * {@linkcode nameKey} (a name is taken when another owner holds one that
 * looks like it) and the time its node last vouched for it. A heartbeat rewrites a node's rows; rows not
 * refreshed within the TTL are stale and swept, and the users who left with
 * them are returned for announcement. A room's first names and its count,
 * which every newcomer is sent, are kept between reads and brought up to date
 * by this connection's own joins and leaves (presence_list_cache.ts).
 *
 * @module
 */

import type { SqliteDatabase } from "./database.ts";
import type { OutboxWriter } from "./outbox.ts";
import { intField, roomField, type Row, textField } from "./rows.ts";
import { nameKey } from "../../chat/name_key.ts";
import { PresenceListCache } from "./presence_list_cache.ts";
import type {
  Departure,
  JoinResult,
  OnlineRoom,
  PresenceEntry,
  PresenceStore,
  PresentUser,
  RenameLeave,
} from "../../chat/store.ts";
import type { RoomName } from "../../chat/room_name.ts";
import {
  memberData,
  renameEvent,
  webhookPayload,
} from "../../chat/webhook_events.ts";

/** About what one entry takes in the log: its row and its index entry. */
const ENTRY_BYTES = 128;

/**
 * The rows a node's entries make (one per room and name, whatever its
 * owners) and their connections.
 */
function rowsOf(entries: readonly PresenceEntry[]) {
  const names = new Map<string, Set<string>>();
  let connections = 0;
  for (const { room, user, connections: count } of entries) {
    let users = names.get(room);
    if (!users) names.set(room, users = new Set());
    users.add(user);
    connections += count;
  }
  let rows = 0;
  for (const users of names.values()) rows += users.size;
  return { rows, connections };
}

/** What {@linkcode openSqlitePresence} needs. */
export interface SqlitePresenceOptions {
  /** Presence entries not refreshed for this long (ms) are stale. */
  readonly ttlMs: number;
  /** The clock that `seen_at` is written and compared in. */
  readonly now: () => number;
  /** Where webhook events go, in the same transactions; none when off. */
  readonly outbox?: OutboxWriter;
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
  const oneUser = database.prepare(
    `SELECT user, SUM(connections) AS connections,
       MAX(owner LIKE 'signed:%') AS verified FROM presence
     WHERE room = ? AND user = ? AND seen_at > ? GROUP BY user`,
  );
  const countUsers = database.prepare(
    `SELECT COUNT(DISTINCT user) AS n, MIN(seen_at) AS oldest FROM presence
     WHERE room = ? AND seen_at > ? AND connections > 0`,
  );
  const dataVersion = database.prepare("PRAGMA data_version");
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
    `SELECT room, user, MAX(owner) AS owner FROM presence WHERE seen_at <= ?
     GROUP BY room, user`,
  );
  const deleteStale = database.prepare(
    "DELETE FROM presence WHERE seen_at <= ?",
  );
  const nodeEntries = database.prepare(
    `SELECT room, user, MAX(owner) AS owner FROM presence WHERE node = ?
     GROUP BY room, user`,
  );
  const ownerOf = database.prepare(
    "SELECT owner FROM presence WHERE room = ? AND user = ? AND node = ?",
  );
  const deleteNode = database.prepare("DELETE FROM presence WHERE node = ?");
  const refreshNode = database.prepare(
    "UPDATE presence SET seen_at = ? WHERE node = ?",
  );
  const nodeTotals = database.prepare(
    `SELECT COUNT(*) AS n, COALESCE(SUM(connections), 0) AS total
     FROM presence WHERE node = ?`,
  );

  const isOnline = (room: string, user: string) =>
    intField(onlineCount.get(room, user, now() - ttl) ?? {}, "n") > 0;

  const toUser = (row: Row): PresentUser => ({
    name: textField(row, "user"),
    connections: intField(row, "connections"),
    verified: intField(row, "verified") === 1,
  });
  const lists = new PresenceListCache({
    list: (room, limit, after) =>
      listUsers.all(room, now() - ttl, after, limit).map(toUser),
    entry(room, user) {
      const row = oneUser.get(room, user, now() - ttl);
      return row ? toUser(row) : undefined;
    },
    count(room) {
      const row = countUsers.get(room, now() - ttl) ?? {};
      const oldest = row.oldest === null ? Infinity : intField(row, "oldest");
      return { count: intField(row, "n"), freshUntil: oldest + ttl };
    },
    version: () => intField(dataVersion.get() ?? {}, "data_version"),
    now,
  });

  const outbox = options.outbox;
  /**
   * After entries were deleted: who of `candidates` is gone for good, each
   * a `member.left` event written in the same transaction.
   */
  const departed = (candidates: Row[]): Departure[] => {
    const gone = candidates
      .map((row) => ({
        room: roomField(row, "room"),
        user: textField(row, "user"),
        owner: textField(row, "owner"),
      }))
      .filter(({ room, user }) => !isOnline(room, user));
    const at = new Date(now());
    outbox?.write(
      gone.map(({ room, user, owner }) =>
        webhookPayload("member.left", room, memberData(user, owner), at)
      ),
    );
    return gone.map(({ room, user }) => ({ room, user }));
  };

  /** The event of a leave, or of the rename it ends, written in its transaction. */
  function writeLeave(
    room: RoomName,
    user: string,
    wentOffline: boolean,
    rename: RenameLeave | undefined,
    held: Row | undefined,
  ): void {
    const at = new Date(now());
    if (rename) {
      const event = renameEvent(
        room,
        { from: user, to: rename.to, owner: rename.owner },
        { joined: rename.joined, left: wentOffline },
        at,
      );
      if (event) outbox?.write([event]);
    } else if (wentOffline && held) {
      outbox?.write([
        webhookPayload(
          "member.left",
          room,
          memberData(user, textField(held, "owner")),
          at,
        ),
      ]);
    }
  }

  return {
    join({ room, user, node, owner, renaming }): Promise<JoinResult> {
      const key = nameKey(user);
      const seenAt = now();
      const result: JoinResult = database.transaction(() => {
        if (otherOwner.get(room, key, owner, seenAt - ttl)) {
          return { taken: true };
        }
        const first = !isOnline(room, user);
        addConnection.run(room, user, node, owner, key, seenAt);
        if (first && !renaming) {
          outbox?.write([
            webhookPayload(
              "member.joined",
              room,
              memberData(user, owner),
              new Date(seenAt),
            ),
          ]);
        }
        return { taken: false, first };
      });
      if (!result.taken) {
        database.wroteInPassing(0);
        lists.joined(room, user, result.first, seenAt + ttl);
      }
      return Promise.resolve(result);
    },
    leave(room, user, node, rename) {
      const { last, wentOffline } = database.transaction(() => {
        // A name already stale is not online before: its count stays.
        const before = isOnline(room, user);
        const held = outbox && !rename ? ownerOf.get(room, user, node) : {};
        removeConnection.run(room, user, node);
        dropEmpty.run(room, user, node);
        const last = !isOnline(room, user);
        const wentOffline = before && last;
        if (outbox) writeLeave(room, user, wentOffline, rename, held);
        return { last, wentOffline };
      });
      database.wroteInPassing(0);
      lists.left(room, user, wentOffline);
      return Promise.resolve({ last });
    },
    list(room, { limit, after = "" }): Promise<PresentUser[]> {
      return Promise.resolve(lists.list(room, limit, after));
    },
    count(room) {
      return Promise.resolve(lists.count(room));
    },
    connections(room, user) {
      const row = oneUser.get(room, user, now() - ttl);
      return Promise.resolve(row ? intField(row, "connections") : 0);
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
      lists.clear();
      const expected = rowsOf(entries);
      database.transaction(() => {
        const seenAt = now();
        // The node's rows are its counts, unless some were removed behind
        // its back (a sweep while it stalled) or a leave failed to write,
        // and either changes how many rows or connections there are: then
        // they are rewritten. Otherwise they are refreshed in place, which
        // spares a room of 2 000 rewriting every row (15 ms on the event
        // loop).
        refreshNode.run(seenAt, node);
        const held = nodeTotals.get(node) ?? {};
        if (
          intField(held, "n") === expected.rows &&
          intField(held, "total") === expected.connections
        ) return;
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
      });
      database.wroteInPassing(entries.length * ENTRY_BYTES);
      return Promise.resolve();
    },
    sweep() {
      lists.clear();
      return Promise.resolve(database.transaction(() => {
        const cutoff = now() - ttl;
        const candidates = staleEntries.all(cutoff);
        deleteStale.run(cutoff);
        return departed(candidates);
      }));
    },
    removeNode(node) {
      lists.clear();
      return Promise.resolve(database.transaction(() => {
        const candidates = nodeEntries.all(node);
        deleteNode.run(node);
        return departed(candidates);
      }));
    },
  };
}

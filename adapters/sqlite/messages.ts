/**
 * The {@linkcode MessageStore} in SQLite: each room's messages in the
 * `messages` table, each id one more than the room's newest (in write
 * transactions, so writers on the same file never collide), a resend
 * recognised by its `cid`, history and the number of rooms bounded, and the
 * appends of one turn of the event loop stored in one transaction.
 *
 * A message writes one page of the file: its room's newest page of
 * `messages`. The room's last id is not kept beside it (that was a second
 * page in every commit, and twice the log to write and copy); it is the
 * newest message's id, or `rooms.last_id` when deletes took the newest away:
 * a floor that every delete of a room's newest message raises first, so that
 * no id is ever handed out twice.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { SqliteDatabase } from "./database.ts";
import type { OutboxWriter } from "./outbox.ts";
import { intField, roomField, type Row, textField } from "./rows.ts";
import type { RoomName } from "../../chat/room_name.ts";
import {
  type AppendResult,
  type ChatMessage,
  type MessageAuthor,
  type MessageStore,
  type NewMessage,
  type RoomBounds,
  StoreError,
} from "../../chat/store.ts";
import { messageEvents, webhookPayload } from "../../chat/webhook_events.ts";

/** What {@linkcode openSqliteMessages} needs. */
export interface SqliteMessagesOptions {
  /** Messages kept per room; older ones are pruned. */
  readonly historyMax: number;
  /** How many of a room's latest ids a repeated `cid` is looked for in. */
  readonly dedupeWindow: number;
  /** Rooms that may hold messages at once; a new room past it is refused. */
  readonly maxRooms: number;
  /** Where webhook events go, in the same transactions; none when off. */
  readonly outbox?: OutboxWriter;
}

// Message bodies are stored as UTF-8 bytes: node:sqlite binds strings as C
// strings and would cut a message at its first NUL character.
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function utf8Field(row: Row, key: string): string {
  const value = row[key];
  if (value instanceof Uint8Array) return decoder.decode(value);
  throw new StoreError(`Column ${key} holds ${typeof value}, not UTF-8 bytes`);
}

function authorField(row: Row): MessageAuthor | undefined {
  const value = row.author;
  if (value === null || value === undefined) return undefined;
  if (value === "signed" || value === "server") return value;
  throw new StoreError(`Column author holds ${String(value).slice(0, 20)}`);
}

function toMessage(row: Row): ChatMessage {
  const author = authorField(row);
  return {
    id: intField(row, "id"),
    room: roomField(row, "room"),
    user: textField(row, "user"),
    message: utf8Field(row, "message"),
    ts: textField(row, "ts"),
    ...(row.cid === null || row.cid === undefined
      ? {}
      : { cid: textField(row, "cid") }),
    ...(author === undefined ? {} : { author }),
  };
}

/**
 * A full room is pruned in batches of `historyMax / PRUNE_BATCHES` messages
 * (one each when that is under one), so it holds at most a 64th more than
 * `historyMax`.
 */
const PRUNE_BATCHES = 64;

/** An append waiting for its turn's transaction. */
interface PendingAppend {
  readonly room: RoomName;
  readonly message: NewMessage;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/** The message log of the open, migrated `database`. */
export function openSqliteMessages(
  database: SqliteDatabase,
  options: SqliteMessagesOptions,
): MessageStore {
  const historyMax = options.historyMax;
  // A room at its bound loses its oldest messages a batch at a time: a
  // delete per message would write the room's oldest page in every commit
  // as well as its newest.
  const pruneEvery = Math.ceil(historyMax / PRUNE_BATCHES);
  // Both halves of a room's last id: its newest message, and the floor;
  // and the file's epoch, read with them (in the append's transaction).
  const selectLast = database.prepare(
    `SELECT (SELECT MAX(id) FROM messages WHERE room = ?1) AS newest,
            (SELECT last_id FROM rooms WHERE name = ?1) AS floor,
            (SELECT value FROM epoch WHERE id = 1) AS epoch`,
  );
  // Raises the floor to the newest id, before a delete that may take it.
  // (The WHERE is also what SQLite needs to parse an upsert from a SELECT.)
  const keepLast = database.prepare(
    `INSERT INTO rooms (name, last_id)
       SELECT ?1, newest FROM (SELECT MAX(id) AS newest FROM messages WHERE room = ?1)
       WHERE newest IS NOT NULL
     ON CONFLICT (name) DO UPDATE SET last_id = MAX(last_id, excluded.last_id)`,
  );
  const insertMessage = database.prepare(
    "INSERT INTO messages (room, id, user, message, ts, cid, author, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const selectByCid = database.prepare(
    `SELECT room, id, user, message, ts, cid, author FROM messages
     WHERE room = ? AND cid = ? AND id > ? ORDER BY id DESC LIMIT 1`,
  );
  const pruneMessages = database.prepare(
    "DELETE FROM messages WHERE room = ? AND id <= ?",
  );
  const selectLatest = database.prepare(
    `SELECT * FROM (SELECT room, id, user, message, ts, cid, author FROM messages
       WHERE room = ? ORDER BY id DESC LIMIT ?) ORDER BY id`,
  );
  const selectAfter = database.prepare(
    `SELECT room, id, user, message, ts, cid, author FROM messages
     WHERE room = ? AND id > ? ORDER BY id LIMIT ?`,
  );
  const selectBefore = database.prepare(
    `SELECT * FROM (SELECT room, id, user, message, ts, cid, author FROM messages
       WHERE room = ? AND id < ? ORDER BY id DESC LIMIT ?) ORDER BY id`,
  );
  const selectFirst = database.prepare(
    "SELECT MIN(id) AS first FROM messages WHERE room = ?",
  );
  // The rooms with messages, found by jumping from one room's messages to
  // the next one's: as many index lookups as rooms, not a read of every
  // message.
  const roomsWithMessages = `WITH RECURSIVE held (room) AS (
       SELECT MIN(room) FROM messages
       UNION ALL
       SELECT (SELECT MIN(room) FROM messages WHERE room > held.room)
       FROM held WHERE held.room IS NOT NULL
     )
     SELECT room FROM held WHERE room IS NOT NULL`;
  const countRooms = database.prepare(
    `SELECT COUNT(*) AS n FROM (${roomsWithMessages})`,
  );
  const roomNames = database.prepare(roomsWithMessages);
  // Each room's newest message by its primary key, then the newest rooms:
  // an index lookup per room, as above.
  const selectRecent = database.prepare(
    `SELECT room, (SELECT ts FROM messages WHERE messages.room = held.room
                   ORDER BY id DESC LIMIT 1) AS ts
     FROM (${roomsWithMessages}) AS held ORDER BY ts DESC, room LIMIT ?`,
  );
  const optionalInt = (row: Row, key: string) =>
    row[key] === null ? 0 : intField(row, key);
  const firstOf = (room: RoomName) =>
    optionalInt(selectFirst.get(room) ?? {}, "first");
  /**
   * The room's newest id (0 for none), its last handed-out one, and the
   * file's epoch.
   */
  const lastOf = (room: RoomName) => {
    const row = selectLast.get(room) ?? {};
    const newest = optionalInt(row, "newest");
    return {
      newest,
      last: Math.max(newest, optionalInt(row, "floor")),
      epoch: textField(row, "epoch"),
    };
  };
  // A room's ids follow the clock of whoever sent them, so its messages
  // before the first one at or after the cut-off are the old ones. Found
  // walking the room by id: as many rows as are expired, plus one. (Clocks
  // of two isolates a few ms apart can leave one message a sweep longer.)
  const deleteBefore = database.prepare(
    `DELETE FROM messages WHERE room = ?1 AND id < COALESCE(
       (SELECT id FROM messages WHERE room = ?1 AND ts >= ?2 ORDER BY id LIMIT 1),
       9223372036854775807)`,
  );
  // Whether a room has no message at or after the cut-off: expiry then
  // deletes all of them.
  const expiresWhole = database.prepare(
    `SELECT 1 FROM messages WHERE room = ?1 AND ts < ?2
       AND id = (SELECT MAX(id) FROM messages WHERE room = ?1)`,
  );
  const deleteOne = database.prepare(
    "DELETE FROM messages WHERE room = ? AND id = ?",
  );
  // A room's ids start again at 1 only once it has no message and nobody
  // in it: a client that comes back with an old since= is told that its
  // history could not be recovered.
  const forgetEmptyRooms = database.prepare(
    `DELETE FROM rooms WHERE NOT EXISTS
       (SELECT 1 FROM messages WHERE messages.room = rooms.name)
     AND NOT EXISTS (SELECT 1 FROM presence WHERE presence.room = rooms.name)`,
  );

  /** Stores one message; call it inside a transaction. */
  function appendOne(room: RoomName, message: NewMessage): AppendResult {
    const { newest, last, epoch } = lastOf(room);
    if (message.cid !== undefined) {
      const earlier = selectByCid.get(
        room,
        message.cid,
        last - options.dedupeWindow,
      );
      if (earlier) {
        return { message: toMessage(earlier), duplicate: true, epoch };
      }
    }
    if (
      newest === 0 &&
      intField(countRooms.get() ?? {}, "n") >= options.maxRooms
    ) {
      throw new StoreError(
        `the server keeps messages of at most ${options.maxRooms} rooms (CHAT_MAX_ROOMS)`,
        { kind: "limit" },
      );
    }
    const id = last + 1;
    insertMessage.run(
      room,
      id,
      message.user,
      encoder.encode(message.message),
      message.ts,
      message.cid ?? null,
      message.author ?? null,
      message.owner ?? null,
    );
    if (id > historyMax && (id - historyMax) % pruneEvery === 0) {
      pruneMessages.run(room, id - historyMax);
    }
    const stored: ChatMessage = { id, room, ...message };
    options.outbox?.write(messageEvents(stored, new Date(message.ts)));
    return { message: stored, duplicate: false, epoch };
  }

  /**
   * Appends of this turn, waiting to be stored together: one transaction
   * (one BEGIN and COMMIT, the larger part of a message's cost) for all the
   * messages that arrive in one turn of the event loop.
   */
  let waiting: PendingAppend[] = [];

  function storeWaiting(): void {
    const batch = waiting;
    waiting = [];
    let results: (AppendResult | StoreError)[];
    let bytes = 0;
    for (const { message } of batch) bytes += message.message.length;
    try {
      results = database.transaction(() =>
        batch.map(({ room, message }) => {
          try {
            return appendOne(room, message);
          } catch (error) {
            // A bound that refuses one message (it wrote nothing) leaves
            // the others of the batch to be stored.
            if (error instanceof StoreError && error.kind === "limit") {
              return error;
            }
            throw error;
          }
        }), bytes);
    } catch (error) {
      for (const { reject } of batch) reject(error);
      return;
    }
    results.forEach((result, index) => {
      const pending = batch[index];
      if (result instanceof StoreError) pending?.reject(result);
      else pending?.resolve(result);
    });
  }

  return {
    append(room: RoomName, message: NewMessage): Promise<AppendResult> {
      const { promise, resolve, reject } = Promise.withResolvers<
        AppendResult
      >();
      // The first append of a turn schedules the write for the end of the
      // turn, after every frame that arrived with it had its say
      // (setImmediate: not clamped like a timer, so well under a millisecond).
      if (waiting.push({ room, message, resolve, reject }) === 1) {
        setImmediate(storeWaiting);
      }
      return promise;
    },
    latest(room, limit) {
      return Promise.resolve(selectLatest.all(room, limit).map(toMessage));
    },
    after(room, afterId, limit) {
      return Promise.resolve(
        selectAfter.all(room, afterId, limit).map(toMessage),
      );
    },
    before(room, beforeId, limit) {
      return Promise.resolve(
        selectBefore.all(room, beforeId, limit).map(toMessage),
      );
    },
    expire(before) {
      return Promise.resolve(database.transaction(() => {
        let deleted = 0;
        for (const row of roomNames.all()) {
          const room = roomField(row, "room");
          // Its newest message goes too when nothing is newer than the cut.
          if (expiresWhole.get(room, before)) keepLast.run(room);
          deleted += Number(deleteBefore.run(room, before).changes);
        }
        forgetEmptyRooms.run();
        return deleted;
      }));
    },
    recent(limit) {
      return Promise.resolve(
        selectRecent.all(limit).map((row) => ({
          name: roomField(row, "room"),
          lastMessageAt: textField(row, "ts"),
        })),
      );
    },
    remove(room, id) {
      return Promise.resolve(
        database.transaction(() => {
          keepLast.run(room);
          const deleted = Number(deleteOne.run(room, id).changes) > 0;
          if (deleted) {
            options.outbox?.write([
              webhookPayload("message.deleted", room, { id }, new Date()),
            ]);
          }
          return deleted;
        }),
      );
    },
    positions(rooms) {
      return Promise.resolve(rooms.map((room) => {
        const { last, epoch } = lastOf(room);
        return { last, epoch };
      }));
    },
    bounds(room): Promise<RoomBounds> {
      const { last, epoch } = lastOf(room);
      return Promise.resolve({ first: firstOf(room), last, epoch });
    },
  };
}

/**
 * The {@linkcode MessageStore} in SQLite: each room's messages in the
 * `messages` table, ids handed out from `rooms.last_id` in write
 * transactions (so writers on the same file never collide), a resend
 * recognised by its `cid`, history and the number of rooms bounded, and the
 * appends of one turn of the event loop stored in one transaction.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import {
  intField,
  roomField,
  type Row,
  type SqliteDatabase,
  textField,
} from "./sqlite_database.ts";
import type { RoomName } from "./room_name.ts";
import {
  type AppendResult,
  type ChatMessage,
  type MessageAuthor,
  type MessageStore,
  type NewMessage,
  type RoomBounds,
  StoreError,
} from "./store.ts";

/** What {@linkcode openSqliteMessages} needs. */
export interface SqliteMessagesOptions {
  /** Messages kept per room; older ones are pruned. */
  readonly historyMax: number;
  /** How many of a room's latest ids a repeated `cid` is looked for in. */
  readonly dedupeWindow: number;
  /** Rooms that may hold messages at once; a new room past it is refused. */
  readonly maxRooms: number;
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
  const nextId = database.prepare(
    `INSERT INTO rooms (name, last_id) VALUES (?, 1)
     ON CONFLICT (name) DO UPDATE SET last_id = last_id + 1
     RETURNING last_id`,
  );
  const insertMessage = database.prepare(
    "INSERT INTO messages (room, id, user, message, ts, cid, author) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
  const selectLast = database.prepare(
    "SELECT last_id FROM rooms WHERE name = ?",
  );
  const countRooms = database.prepare(
    "SELECT COUNT(*) AS n FROM (SELECT DISTINCT room FROM messages)",
  );
  const roomsWithMessages = () => intField(countRooms.get() ?? {}, "n");
  const firstOf = (room: RoomName) => {
    const row = selectFirst.get(room) ?? {};
    return row.first === null ? 0 : intField(row, "first");
  };
  const roomNames = database.prepare("SELECT name FROM rooms");
  // A room's ids follow the clock of whoever sent them, so its messages
  // before the first one at or after the cut-off are the old ones. Found
  // walking the room by id: as many rows as are expired, plus one. (Clocks
  // of two isolates a few ms apart can leave one message a sweep longer.)
  const deleteBefore = database.prepare(
    `DELETE FROM messages WHERE room = ?1 AND id < COALESCE(
       (SELECT id FROM messages WHERE room = ?1 AND ts >= ?2 ORDER BY id LIMIT 1),
       9223372036854775807)`,
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
    if (message.cid !== undefined) {
      const lastRow = selectLast.get(room);
      const last = lastRow ? intField(lastRow, "last_id") : 0;
      const earlier = selectByCid.get(
        room,
        message.cid,
        last - options.dedupeWindow,
      );
      if (earlier) return { message: toMessage(earlier), duplicate: true };
    }
    if (firstOf(room) === 0 && roomsWithMessages() >= options.maxRooms) {
      throw new StoreError(
        `the server keeps messages of at most ${options.maxRooms} rooms (CHAT_MAX_ROOMS)`,
        { kind: "limit" },
      );
    }
    const id = intField(nextId.get(room) ?? {}, "last_id");
    insertMessage.run(
      room,
      id,
      message.user,
      encoder.encode(message.message),
      message.ts,
      message.cid ?? null,
      message.author ?? null,
    );
    if (id > historyMax) pruneMessages.run(room, id - historyMax);
    return { message: { id, room, ...message }, duplicate: false };
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
          const room = textField(row, "name");
          deleted += Number(deleteBefore.run(room, before).changes);
        }
        forgetEmptyRooms.run();
        return deleted;
      }));
    },
    remove(room, id) {
      return Promise.resolve(
        database.transaction(() => Number(deleteOne.run(room, id).changes) > 0),
      );
    },
    lastIds(rooms) {
      return Promise.resolve(rooms.map((room) => {
        const row = selectLast.get(room);
        return row ? intField(row, "last_id") : 0;
      }));
    },
    bounds(room): Promise<RoomBounds> {
      const lastRow = selectLast.get(room);
      return Promise.resolve({
        first: firstOf(room),
        last: lastRow ? intField(lastRow, "last_id") : 0,
      });
    },
  };
}

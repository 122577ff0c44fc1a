/**
 * The embedded {@linkcode Store}: one SQLite file through Deno's built-in
 * `node:sqlite`, in WAL mode so that every isolate of `deno serve --parallel`
 * (each with its own connection) can share it. Room ids are handed out in
 * write transactions, so writers on the same file never collide.
 *
 * @module
 */

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { setImmediate } from "node:timers";
import { DatabaseSync } from "node:sqlite";
import { parseRoomName, type RoomName } from "./room_name.ts";
import {
  type AppendResult,
  type ChatMessage,
  type Departure,
  type JoinResult,
  type MessageAuthor,
  type MessageStore,
  type NewMessage,
  type OnlineRoom,
  type PresenceStore,
  type PresentUser,
  type RoomBounds,
  type Store,
  StoreError,
  type StoreErrorKind,
} from "./store.ts";

/** Options for {@linkcode openSqliteStore}. */
export interface SqliteStoreOptions {
  /** File path, or `:memory:`. Missing folders are created. */
  readonly path: string;
  /** Messages kept per room; older ones are pruned. */
  readonly historyMax: number;
  /** How many of a room's latest ids a repeated `cid` is looked for in. */
  readonly dedupeWindow: number;
  /** Rooms that may hold messages at once; a new room past it is refused. */
  readonly maxRooms: number;
  /** Largest database file in bytes; writes past it fail as `full`. */
  readonly maxBytes: number;
  /** Presence entries not refreshed for this long (ms) are stale. */
  readonly presenceTtlMs: number;
  /** Clock for presence. @default Date.now */
  readonly now?: () => number;
}

/**
 * The schema, one step per version; `PRAGMA user_version` records how many
 * have run. Append new steps; never edit a released one.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE rooms (
     name TEXT PRIMARY KEY,
     last_id INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE messages (
     room TEXT NOT NULL,
     id INTEGER NOT NULL,
     user TEXT NOT NULL,
     message BLOB NOT NULL,
     ts TEXT NOT NULL,
     PRIMARY KEY (room, id)
   ) WITHOUT ROWID;
   CREATE TABLE presence (
     room TEXT NOT NULL,
     user TEXT NOT NULL,
     node TEXT NOT NULL,
     connections INTEGER NOT NULL,
     seen_at INTEGER NOT NULL,
     PRIMARY KEY (room, user, node)
   ) WITHOUT ROWID;
   CREATE INDEX presence_by_node ON presence (node);`,
  // Who holds each name: one owner (a browser, or one anonymous socket).
  `ALTER TABLE presence ADD COLUMN owner TEXT NOT NULL DEFAULT '';`,
  // The sender's own message id, so that a resend is stored once.
  `ALTER TABLE messages ADD COLUMN cid TEXT;
   CREATE INDEX messages_by_cid ON messages (room, cid) WHERE cid IS NOT NULL;`,
  // Retention by age deletes by time.
  `CREATE INDEX messages_by_ts ON messages (ts);`,
  // One row that /healthz rewrites to prove the file takes writes.
  `CREATE TABLE health (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     checked_at INTEGER NOT NULL
   );`,
  // Who vouches for the sender: 'signed', 'server', or NULL for a guest.
  `ALTER TABLE messages ADD COLUMN author TEXT;`,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

type Row = Record<string, unknown>;

function intField(row: Row, key: string): number {
  const value = row[key];
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  throw new StoreError(`Column ${key} holds ${typeof value}, not an integer`);
}

function textField(row: Row, key: string): string {
  const value = row[key];
  if (typeof value === "string") return value;
  throw new StoreError(`Column ${key} holds ${typeof value}, not text`);
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

function roomField(row: Row, key: string): RoomName {
  const parsed = parseRoomName(textField(row, key));
  if (parsed.ok) return parsed.name;
  throw new StoreError(`Column ${key} holds an invalid room: ${parsed.error}`);
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

/** The database file could not be opened, created or written at start. */
export class StoreOpenError extends StoreError {
  override name = "StoreOpenError";
}

/**
 * Runs `work` on the database at `path`, turning what SQLite and Deno say
 * when a file cannot be used into one sentence about that file.
 */
function explainOpenFailure<T>(path: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof StoreOpenError) throw error;
    if (error instanceof Deno.errors.NotCapable) {
      // Deno's own advice here is to grant --allow-all; never the answer.
      throw new StoreOpenError(
        `Cannot open the database ${path}: Deno's permissions refuse that path`,
      );
    }
    if (!(error instanceof Error)) throw error;
    const why = error.message;
    if (/file is not a database|file is encrypted/i.test(why)) {
      throw new StoreOpenError(`${path} is not a SQLite database`);
    }
    if (/readonly|read-only|permission denied|access permission/i.test(why)) {
      throw new StoreOpenError(
        `The database ${path} is not writable (${why})`,
      );
    }
    if (/unable to open database file/i.test(why)) {
      throw new StoreOpenError(
        `The database ${path} cannot be opened or created (${why})`,
      );
    }
    throw new StoreOpenError(`Cannot open the database ${path}: ${why}`);
  }
}

/** Opens the file (creating its folder), in WAL mode. */
function openDatabase(path: string): DatabaseSync {
  if (path !== ":memory:") {
    let exists = false;
    try {
      if (Deno.statSync(path).isDirectory) {
        throw new StoreOpenError(`${path} is a folder, not a database file`);
      }
      exists = true;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        explainOpenFailure(path, () => {
          throw error;
        });
      }
    }
    if (exists) {
      // SQLite opens a file it cannot write read-only and fails later with
      // a vaguer message; ask the file system first.
      try {
        Deno.openSync(path, { read: true, write: true }).close();
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        throw new StoreOpenError(
          `The database ${path} is not writable (${error.message})`,
        );
      }
    }
    const folder = dirname(path);
    try {
      mkdirSync(folder, { recursive: true });
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      throw new StoreOpenError(
        `Cannot create the folder ${folder} for the database ${path}: ${error.message}`,
      );
    }
  }
  return explainOpenFailure(path, () => {
    const db = new DatabaseSync(path);
    db.exec("PRAGMA busy_timeout = 5000");
    retryWhileBusy(() => db.exec("PRAGMA journal_mode = WAL"));
    db.exec("PRAGMA synchronous = NORMAL");
    return db;
  });
}

/**
 * Turns what SQLite threw into a {@linkcode StoreError} of the right kind,
 * keeping its message (which names the real cause, e.g. "database or disk
 * is full") and the original as `cause`.
 */
export function classifySqliteError(error: unknown): unknown {
  if (error instanceof StoreError || !(error instanceof Error)) return error;
  const why = error.message;
  const kind: StoreErrorKind =
    /disk is full|SQLITE_FULL|no space|quota/i.test(why)
      ? "full"
      : /readonly|read-only|SQLITE_READONLY/i.test(why)
      ? "read_only"
      : /database is locked|SQLITE_BUSY/i.test(why)
      ? "busy"
      : /disk I\/O error|SQLITE_IOERR/i.test(why)
      ? "io"
      : /malformed|not a database|SQLITE_CORRUPT/i.test(why)
      ? "corrupt"
      : "other";
  return new StoreError(why, { kind, cause: error });
}

/** How long a failed write keeps the store unhealthy without a success. */
const WRITE_FAILURE_MEMORY_MS = 5000;

/** Blocks the thread for `ms`; only used while opening the database. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isBusy(error: unknown): boolean {
  return error instanceof Error &&
    /database is locked|SQLITE_BUSY/i.test(error.message);
}

/**
 * Runs `work`, retrying for up to `budgetMs` while the database is locked.
 * Switching a new file to WAL needs an exclusive lock and does not wait on
 * `busy_timeout`, so isolates starting together would otherwise fail.
 */
function retryWhileBusy<T>(work: () => T, budgetMs = 5000): T {
  const deadline = Date.now() + budgetMs;
  for (let wait = 5;; wait = Math.min(wait * 2, 200)) {
    try {
      return work();
    } catch (error) {
      if (!isBusy(error) || Date.now() + wait > deadline) throw error;
      sleepSync(wait);
    }
  }
}

/** An append waiting for its turn's transaction. */
interface PendingAppend {
  readonly room: RoomName;
  readonly message: NewMessage;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/** Opens (creating and migrating as needed) a SQLite store. */
export function openSqliteStore(options: SqliteStoreOptions): Store {
  const historyMax = options.historyMax;
  const ttl = options.presenceTtlMs;
  const now = options.now ?? Date.now;
  const db = openDatabase(options.path);
  // A per-connection bound: every isolate sets it for its own connection.
  const pageSize = intField(
    db.prepare("PRAGMA page_size").get() ?? {},
    "page_size",
  );
  const maxPages = Math.max(1, Math.floor(options.maxBytes / pageSize));
  db.exec(`PRAGMA max_page_count = ${maxPages}`);
  const pageCount = db.prepare("PRAGMA page_count");

  /**
   * The last write that failed for lack of space, permission or a device
   * error, until a later write succeeds: a health probe's small write can
   * still fit where a message no longer does.
   */
  let writeFailure: { error: StoreError; at: number } | undefined;

  function transaction<T>(work: () => T): T {
    try {
      const result = attempt(work);
      writeFailure = undefined;
      return result;
    } catch (error) {
      if (
        error instanceof StoreError &&
        (error.kind === "full" || error.kind === "read_only" ||
          error.kind === "io")
      ) {
        writeFailure = { error, at: Date.now() };
      }
      throw error;
    }
  }

  function attempt<T>(work: () => T): T {
    try {
      db.exec("BEGIN IMMEDIATE");
      try {
        const result = work();
        db.exec("COMMIT");
        return result;
      } catch (error) {
        // SQLite rolls back by itself after some failures (a full disk
        // among them); a ROLLBACK then would throw and hide the real error.
        if (db.isTransaction) db.exec("ROLLBACK");
        throw error;
      }
    } catch (error) {
      throw explain(error);
    }
  }

  /**
   * SQLite's error as a StoreError, naming the size limit when it was that.
   * SQLite says "database or disk is full" either way, and has rolled the
   * write back by now, so the file is "at the limit" when the write that
   * failed could have filled the rest: within 64 pages (a large message)
   * or a tenth of the limit. An in-memory database has no disk to fill.
   */
  function explain(error: unknown): unknown {
    const classified = classifySqliteError(error);
    const headroom = maxPages -
      intField(pageCount.get() ?? {}, "page_count");
    if (
      classified instanceof StoreError && classified.kind === "full" &&
      (options.path === ":memory:" ||
        headroom <= Math.max(64, maxPages / 10))
    ) {
      return new StoreError(
        `the database reached its size limit of ${options.maxBytes} bytes (CHAT_MAX_DB_BYTES)`,
        { kind: "full", cause: error },
      );
    }
    return classified;
  }

  // Migrate inside a write transaction, so two isolates starting together
  // cannot both run a step. It is also the first write: a file that cannot
  // be written fails here, at start.
  explainOpenFailure(
    options.path,
    () =>
      retryWhileBusy(() =>
        transaction(() => {
          const version = intField(
            db.prepare("PRAGMA user_version").get() ?? {},
            "user_version",
          );
          if (version > MIGRATIONS.length) {
            throw new StoreOpenError(
              `${options.path} has schema version ${version}, newer than this server's ${MIGRATIONS.length}`,
            );
          }
          for (const [index, step] of MIGRATIONS.entries()) {
            if (index < version) continue;
            db.exec(step);
            db.exec(`PRAGMA user_version = ${index + 1}`);
          }
        })
      ),
  );

  const nextId = db.prepare(
    `INSERT INTO rooms (name, last_id) VALUES (?, 1)
     ON CONFLICT (name) DO UPDATE SET last_id = last_id + 1
     RETURNING last_id`,
  );
  const insertMessage = db.prepare(
    "INSERT INTO messages (room, id, user, message, ts, cid, author) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const selectByCid = db.prepare(
    `SELECT room, id, user, message, ts, cid, author FROM messages
     WHERE room = ? AND cid = ? AND id > ? ORDER BY id DESC LIMIT 1`,
  );
  const pruneMessages = db.prepare(
    "DELETE FROM messages WHERE room = ? AND id <= ?",
  );
  const selectLatest = db.prepare(
    `SELECT * FROM (SELECT room, id, user, message, ts, cid, author FROM messages
       WHERE room = ? ORDER BY id DESC LIMIT ?) ORDER BY id`,
  );
  const selectAfter = db.prepare(
    `SELECT room, id, user, message, ts, cid, author FROM messages
     WHERE room = ? AND id > ? ORDER BY id LIMIT ?`,
  );
  const selectBefore = db.prepare(
    `SELECT * FROM (SELECT room, id, user, message, ts, cid, author FROM messages
       WHERE room = ? AND id < ? ORDER BY id DESC LIMIT ?) ORDER BY id`,
  );
  const selectFirst = db.prepare(
    "SELECT MIN(id) AS first FROM messages WHERE room = ?",
  );
  const selectLast = db.prepare("SELECT last_id FROM rooms WHERE name = ?");
  const countRooms = db.prepare(
    "SELECT COUNT(*) AS n FROM (SELECT DISTINCT room FROM messages)",
  );
  const roomsWithMessages = () => intField(countRooms.get() ?? {}, "n");
  const firstOf = (room: RoomName) => {
    const row = selectFirst.get(room) ?? {};
    return row.first === null ? 0 : intField(row, "first");
  };
  const deleteBefore = db.prepare("DELETE FROM messages WHERE ts < ?");
  const deleteOne = db.prepare(
    "DELETE FROM messages WHERE room = ? AND id = ?",
  );
  // A room's ids start again at 1 only once it has no message and nobody
  // in it: a client that comes back with an old since= is told that its
  // history could not be recovered.
  const forgetEmptyRooms = db.prepare(
    `DELETE FROM rooms WHERE NOT EXISTS
       (SELECT 1 FROM messages WHERE messages.room = rooms.name)
     AND NOT EXISTS (SELECT 1 FROM presence WHERE presence.room = rooms.name)`,
  );
  const touchHealth = db.prepare(
    `INSERT INTO health (id, checked_at) VALUES (1, ?)
     ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`,
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
    try {
      results = transaction(() =>
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
        })
      );
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

  const messages: MessageStore = {
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
      return Promise.resolve(transaction(() => {
        const { changes } = deleteBefore.run(before);
        forgetEmptyRooms.run();
        return Number(changes);
      }));
    },
    remove(room, id) {
      return Promise.resolve(
        transaction(() => Number(deleteOne.run(room, id).changes) > 0),
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

  const onlineCount = db.prepare(
    `SELECT COALESCE(SUM(connections), 0) AS n FROM presence
     WHERE room = ? AND user = ? AND seen_at > ?`,
  );
  const addConnection = db.prepare(
    `INSERT INTO presence (room, user, node, owner, connections, seen_at)
     VALUES (?, ?, ?, ?, 1, ?)
     ON CONFLICT (room, user, node) DO UPDATE
     SET connections = connections + 1, seen_at = excluded.seen_at`,
  );
  const otherOwner = db.prepare(
    `SELECT 1 AS taken FROM presence
     WHERE room = ? AND user = ? AND owner != ? AND connections > 0
       AND seen_at > ? LIMIT 1`,
  );
  const removeConnection = db.prepare(
    `UPDATE presence SET connections = connections - 1
     WHERE room = ? AND user = ? AND node = ?`,
  );
  const dropEmpty = db.prepare(
    "DELETE FROM presence WHERE room = ? AND user = ? AND node = ? AND connections <= 0",
  );
  const listUsers = db.prepare(
    `SELECT user, SUM(connections) AS connections,
       MAX(owner LIKE 'signed:%') AS verified FROM presence
     WHERE room = ? AND seen_at > ? AND user > ?
     GROUP BY user ORDER BY user LIMIT ?`,
  );
  const countUsers = db.prepare(
    `SELECT COUNT(DISTINCT user) AS n FROM presence
     WHERE room = ? AND seen_at > ? AND connections > 0`,
  );
  const listRooms = db.prepare(
    `SELECT room, COUNT(DISTINCT user) AS online FROM presence
     WHERE seen_at > ? AND connections > 0 GROUP BY room ORDER BY room`,
  );
  const putEntry = db.prepare(
    `INSERT INTO presence (room, user, node, owner, connections, seen_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (room, user, node) DO UPDATE
     SET connections = connections + excluded.connections`,
  );
  const staleEntries = db.prepare(
    "SELECT DISTINCT room, user FROM presence WHERE seen_at <= ?",
  );
  const deleteStale = db.prepare("DELETE FROM presence WHERE seen_at <= ?");
  const nodeEntries = db.prepare(
    "SELECT DISTINCT room, user FROM presence WHERE node = ?",
  );
  const deleteNode = db.prepare("DELETE FROM presence WHERE node = ?");

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

  const presence: PresenceStore = {
    join(room, user, node, owner): Promise<JoinResult> {
      return Promise.resolve(transaction(() => {
        if (otherOwner.get(room, user, owner, now() - ttl)) {
          return { taken: true };
        }
        const first = !isOnline(room, user);
        addConnection.run(room, user, node, owner, now());
        return { taken: false, first };
      }));
    },
    leave(room, user, node) {
      return Promise.resolve(transaction(() => {
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
      return Promise.resolve(transaction(() => {
        const seenAt = now();
        deleteNode.run(node);
        for (const entry of entries) {
          putEntry.run(
            entry.room,
            entry.user,
            node,
            entry.owner,
            entry.connections,
            seenAt,
          );
        }
      }));
    },
    sweep() {
      return Promise.resolve(transaction(() => {
        const cutoff = now() - ttl;
        const candidates = staleEntries.all(cutoff);
        deleteStale.run(cutoff);
        return departed(candidates);
      }));
    },
    removeNode(node) {
      return Promise.resolve(transaction(() => {
        const candidates = nodeEntries.all(node);
        deleteNode.run(node);
        return departed(candidates);
      }));
    },
  };

  let open = true;
  return {
    messages,
    presence,
    ping() {
      return Promise.resolve().then(() => {
        const failure = writeFailure;
        attempt(() => touchHealth.run(now()));
        if (failure && Date.now() - failure.at < WRITE_FAILURE_MEMORY_MS) {
          throw failure.error;
        }
      });
    },
    close() {
      if (open) {
        open = false;
        db.close();
      }
      return Promise.resolve();
    },
  };
}

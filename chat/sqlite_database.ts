/**
 * The SQLite file under the embedded store: opened through Deno's built-in
 * `node:sqlite` in WAL mode, so that every isolate of `deno serve --parallel`
 * (each with its own connection) can share it; migrated to
 * {@linkcode SCHEMA_VERSION}; bounded in size; and written only in
 * {@linkcode SqliteDatabase.transaction}, which turns SQLite's errors into
 * {@linkcode StoreError}s and remembers the last write that failed for
 * {@linkcode SqliteDatabase.probe}. Every way the file cannot be used at
 * start is one {@linkcode StoreOpenError} that names the file.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { parseRoomName, type RoomName } from "./room_name.ts";
import { Checkpointer } from "./sqlite_checkpointer.ts";
import { StoreError, type StoreErrorKind } from "./store.ts";

/** What {@linkcode SqliteDatabase.open} needs. */
export interface SqliteDatabaseOptions {
  /** File path, or `:memory:`. Missing folders are created. */
  readonly path: string;
  /** Largest database file in bytes; writes past it fail as `full`. */
  readonly maxBytes: number;
  /**
   * Checkpoints in the background began to fail (with the reason) or work
   * again (undefined); see {@linkcode Checkpointer}.
   * @default nothing is told
   */
  readonly onCheckpointTrouble?: (reason: string | undefined) => void;
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
  // Retention by age walks each room by id instead (ids follow time): the
  // index cost every message a page in its commit, and every prune another.
  `DROP INDEX messages_by_ts;`,
  // A room's next id follows its newest message, and rooms.last_id is only
  // the floor that deletes leave (see sqlite_messages.ts): every last_id is
  // already at or above its room's newest id, so no row changes. The version
  // moves so that an older server, which counts on last_id alone and would
  // hand out ids already taken, refuses the file.
  `SELECT 1;`,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** A row as `node:sqlite` returns it: checked field by field below. */
export type Row = Record<string, unknown>;

/** The integer in column `key`, or a {@linkcode StoreError}. */
export function intField(row: Row, key: string): number {
  const value = row[key];
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  throw new StoreError(`Column ${key} holds ${typeof value}, not an integer`);
}

/** The text in column `key`, or a {@linkcode StoreError}. */
export function textField(row: Row, key: string): string {
  const value = row[key];
  if (typeof value === "string") return value;
  throw new StoreError(`Column ${key} holds ${typeof value}, not text`);
}

/** The valid room name in column `key`, or a {@linkcode StoreError}. */
export function roomField(row: Row, key: string): RoomName {
  const parsed = parseRoomName(textField(row, key));
  if (parsed.ok) return parsed.name;
  throw new StoreError(`Column ${key} holds an invalid room: ${parsed.error}`);
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

/**
 * The folder a file path is in: `data/chat.db` → `data`, `/chat.db` → `/`,
 * `chat.db` → `.`. (Not node:path, whose import alone starts Deno's Node
 * compatibility layer and costs the process about 8 MiB.)
 */
export function folderOf(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : trimmed.slice(0, slash).replace(/\/+$/, "") || "/";
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
    const folder = folderOf(path);
    try {
      Deno.mkdirSync(folder, { recursive: true });
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

/**
 * The health write runs at most this often (ms); a probe in between says
 * what the last write and the remembered failure say. Each write adds a
 * page to the log: a `/healthz` polled a hundred times a second filled the
 * space a freed disk gave back before any message could use it.
 */
const PROBE_WRITE_INTERVAL_MS = 1000;

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

/**
 * One open, migrated database file: statements are prepared on it, and
 * every write goes through {@linkcode SqliteDatabase.transaction}.
 */
export class SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #path: string;
  readonly #maxBytes: number;
  readonly #maxPages: number;
  readonly #pageCount: StatementSync;
  // Prepared once: `exec` would parse them again for every message, and
  // the parser's code is cold when a quiet server wakes for one.
  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  readonly #pageSize: number;
  /** Copies the log into a file (not into memory) off the event loop. */
  readonly #checkpointer: Checkpointer | undefined;
  /**
   * The last write that failed for lack of space, permission or a device
   * error, until a later write succeeds: a health probe's small write can
   * still fit where a message no longer does.
   */
  #writeFailure: { error: StoreError; at: number } | undefined;
  /** When the health write last succeeded (ms since the epoch). */
  #lastProbeWrite = 0;
  /** Rewrites the health row; prepared once the schema has the table. */
  #touchHealth: StatementSync | undefined;

  private constructor(db: DatabaseSync, options: SqliteDatabaseOptions) {
    this.#db = db;
    this.#path = options.path;
    this.#maxBytes = options.maxBytes;
    // A per-connection bound: every isolate sets it for its own connection.
    const pageSize = intField(
      db.prepare("PRAGMA page_size").get() ?? {},
      "page_size",
    );
    this.#pageSize = pageSize;
    this.#maxPages = Math.max(1, Math.floor(options.maxBytes / pageSize));
    db.exec(`PRAGMA max_page_count = ${this.#maxPages}`);
    this.#pageCount = db.prepare("PRAGMA page_count");
    this.#begin = db.prepare("BEGIN IMMEDIATE");
    this.#commit = db.prepare("COMMIT");
    this.#checkpointer = options.path === ":memory:"
      ? undefined
      : new Checkpointer({
        path: options.path,
        onTrouble: options.onCheckpointTrouble ?? (() => {}),
        onLogCopied: () => this.#startLogOver(),
      });
  }

  /**
   * Opens the file at `options.path` (creating and migrating it as needed).
   *
   * @throws {StoreOpenError} when the file cannot be opened, created,
   * written or migrated.
   */
  static open(options: SqliteDatabaseOptions): SqliteDatabase {
    const database = new SqliteDatabase(openDatabase(options.path), options);
    database.#migrate();
    return database;
  }

  /** Prepares `sql`; call it after {@linkcode SqliteDatabase.open}. */
  prepare(sql: string): StatementSync {
    return this.#db.prepare(sql);
  }

  /**
   * Runs `work` in one write transaction and returns what it returns; a
   * failure is a {@linkcode StoreError}, and one for lack of space,
   * permission or a device error is remembered until a write succeeds.
   *
   * A write that says about how many `bytes` it adds (a message does) is
   * copied into the file by the checkpoint thread; others (presence, a
   * page each) do not start the thread, so that people coming and going do
   * not start a second isolate, and count toward its copies only while it
   * runs ({@linkcode SqliteDatabase.wroteInPassing}).
   */
  transaction<T>(work: () => T, bytes?: number): T {
    try {
      const result = this.#attempt(work);
      this.#writeFailure = undefined;
      if (bytes !== undefined) {
        this.#checkpointer?.wrote(this.#pageSize + bytes);
      }
      return result;
    } catch (error) {
      if (
        error instanceof StoreError &&
        (error.kind === "full" || error.kind === "read_only" ||
          error.kind === "io")
      ) {
        this.#writeFailure = { error, at: Date.now() };
      }
      throw error;
    }
  }

  /**
   * Counts a committed write of about `bytes` (plus a page) toward the
   * checkpoint thread's next copy of the log, if the thread is running;
   * unlike a transaction's `bytes`, it never starts it. Presence writes
   * are small and come in crowds: a room where hundreds come and go each
   * second fills SQLite's 1000 pages in a second or two, and the commit
   * that crosses the mark copies them and syncs the file on the event loop
   * (90 ms measured). Counted, they are copied by the thread like messages;
   * a lone join does not start a second isolate.
   */
  wroteInPassing(bytes: number): void {
    if (this.#checkpointer?.running) {
      this.#checkpointer.wrote(this.#pageSize + bytes);
    }
  }

  /**
   * Rewrites the health row in a transaction of its own (unless that
   * succeeded within {@linkcode PROBE_WRITE_INTERVAL_MS}), which neither
   * clears nor sets the remembered failure, then throws that failure if it
   * is recent: the probe's write may succeed where a message's does not.
   */
  probe(): void {
    const failure = this.#writeFailure;
    const now = Date.now();
    if (now - this.#lastProbeWrite >= PROBE_WRITE_INTERVAL_MS) {
      this.#attempt(() => this.#writeHealthRow(now));
      this.#lastProbeWrite = now;
    }
    if (failure && now - failure.at < WRITE_FAILURE_MEMORY_MS) {
      throw failure.error;
    }
  }

  /**
   * Closes the connection, once the checkpoint thread has closed its own:
   * the last one to close copies what is left of the log into the file,
   * and nothing touches the file after this resolves.
   */
  async close(): Promise<void> {
    await this.#checkpointer?.close();
    this.#db.close();
  }

  #writeHealthRow(now: number): void {
    this.#touchHealth ??= this.#db.prepare(
      `INSERT INTO health (id, checked_at) VALUES (1, ?)
       ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`,
    );
    this.#touchHealth.run(now);
  }

  /**
   * Starts the log over, once the checkpoint thread copied all of it: the
   * first commit after that writes the log from its beginning again, and
   * first syncs the log's new header to disk (SQLite's guard against a
   * reordered write after a power loss). That sync, a disk flush, used to
   * fall in the commit of every sixtieth message or so, with the event loop
   * and the message waiting; the health write takes it now, between
   * messages. A failure is the checkpoint's (see {@linkcode Checkpointer}).
   */
  #startLogOver(): void {
    const now = Date.now();
    this.transaction(() => this.#writeHealthRow(now));
    this.#lastProbeWrite = now;
  }

  #attempt<T>(work: () => T): T {
    try {
      this.#begin.run();
      try {
        const result = work();
        this.#commit.run();
        return result;
      } catch (error) {
        // SQLite rolls back by itself after some failures (a full disk
        // among them); a ROLLBACK then would throw and hide the real error.
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw error;
      }
    } catch (error) {
      throw this.#explain(error);
    }
  }

  /**
   * SQLite's error as a StoreError, naming the size limit when it was that.
   * SQLite says "database or disk is full" either way, and has rolled the
   * write back by now, so the file is "at the limit" when the write that
   * failed could have filled the rest: within 64 pages (a large message)
   * or a tenth of the limit. An in-memory database has no disk to fill.
   */
  #explain(error: unknown): unknown {
    const classified = classifySqliteError(error);
    const headroom = this.#maxPages -
      intField(this.#pageCount.get() ?? {}, "page_count");
    if (
      classified instanceof StoreError && classified.kind === "full" &&
      (this.#path === ":memory:" ||
        headroom <= Math.max(64, this.#maxPages / 10))
    ) {
      return new StoreError(
        `the database reached its size limit of ${this.#maxBytes} bytes (CHAT_MAX_DB_BYTES)`,
        { kind: "full", cause: error },
      );
    }
    return classified;
  }

  // Migrate inside a write transaction, so two isolates starting together
  // cannot both run a step. It is also the first write: a file that cannot
  // be written fails here, at start.
  #migrate(): void {
    const path = this.#path;
    explainOpenFailure(
      path,
      () =>
        retryWhileBusy(() =>
          this.transaction(() => {
            const version = intField(
              this.#db.prepare("PRAGMA user_version").get() ?? {},
              "user_version",
            );
            if (version > MIGRATIONS.length) {
              throw new StoreOpenError(
                `${path} has schema version ${version}, newer than this server's ${MIGRATIONS.length}`,
              );
            }
            for (const [index, step] of MIGRATIONS.entries()) {
              if (index < version) continue;
              this.#db.exec(step);
              this.#db.exec(`PRAGMA user_version = ${index + 1}`);
            }
          })
        ),
    );
  }
}

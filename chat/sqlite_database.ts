/**
 * The SQLite file under the embedded store: opened through Deno's built-in
 * `node:sqlite` in WAL mode, so that every isolate of `deno serve --parallel`
 * (each with its own connection) can share it; migrated to
 * {@linkcode SCHEMA_VERSION}; checked for damage at open; bounded in size;
 * and written only in {@linkcode SqliteDatabase.transaction}, which turns
 * SQLite's errors into {@linkcode StoreError}s and remembers the last write
 * that failed for {@linkcode SqliteDatabase.probe}. Every way the file
 * cannot be used at start is one {@linkcode StoreOpenError} that names the
 * file.
 *
 * The database follows its path: when the path names another file than
 * the one open (replaced, or deleted and made again, under the running
 * server), the next call opens the file there, so that what the server
 * stores is what a copy of that path holds. The file's epoch (see
 * `RoomPosition` in store.ts) tells rooms that the log they delivered is
 * gone; a file that replaces another is given a new one even when it is a
 * copy of it (a backup put back), as its ids may name other messages now.
 *
 * Damage (SQLite's SQLITE_CORRUPT or SQLITE_NOTADB), found at open or met
 * by any call later, is remembered: the probe fails with it (`corrupt`)
 * until the server restarts on a sound file.
 *
 * @module
 */

import type {
  DatabaseSync,
  SQLInputValue,
  StatementResultingChanges,
  StatementSync,
} from "node:sqlite";
import { parseRoomName, type RoomName } from "./room_name.ts";
import { Checkpointer } from "./sqlite_checkpointer.ts";
import {
  fileAt,
  type OpenFiles,
  openFiles,
  sameFile,
  setAsideLog,
} from "./sqlite_file.ts";
import { checkIntegrity, type Integrity } from "./sqlite_integrity.ts";
import {
  classifySqliteError,
  explainOpenFailure,
  isDamageError,
  openDatabase,
  retryWhileBusy,
  StoreOpenError,
} from "./sqlite_open.ts";
import { StoreError } from "./store.ts";

export { StoreOpenError } from "./sqlite_open.ts";

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
  /**
   * What the integrity check of a file found when it was opened, and
   * damage met later (`damaged`, once per file).
   * @default nothing is told
   */
  readonly onIntegrity?: (integrity: Integrity) => void;
  /**
   * The path named another file, which the database opened: what was done
   * with the one it had open.
   * @default nothing is told
   */
  readonly onFileReplaced?: (done: readonly string[]) => void;
  /**
   * Files larger than this are not checked at open.
   * @default INTEGRITY_CHECK_MAX_BYTES
   */
  readonly integrityMaxBytes?: number;
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
  // The file's epoch: a random id made with the file, read with every id
  // handed out (see RoomPosition in store.ts).
  `CREATE TABLE IF NOT EXISTS epoch (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     value TEXT NOT NULL
   );
   INSERT OR IGNORE INTO epoch (id, value) VALUES (1, lower(hex(randomblob(8))));`,
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

/** How long a failed write keeps the store unhealthy without a success. */
const WRITE_FAILURE_MEMORY_MS = 5000;

/**
 * The health write runs at most this often (ms); a probe in between says
 * what the last write and the remembered failure say. Each write adds a
 * page to the log: a `/healthz` polled a hundred times a second filled the
 * space a freed disk gave back before any message could use it.
 */
const PROBE_WRITE_INTERVAL_MS = 1000;

/**
 * How often (ms) the database asks whether its path still names the file
 * it has open: a `stat`, about 8 µs, at most this often, on the next call.
 */
export const FILE_CHECK_INTERVAL_MS = 250;

/** One connection to one file, and what is prepared on it. */
interface Connection {
  readonly db: DatabaseSync;
  /** Counts the connections of this database: statements follow it. */
  readonly generation: number;
  readonly pageCount: StatementSync;
  // Prepared once: `exec` would parse them again for every message, and
  // the parser's code is cold when a quiet server wakes for one.
  readonly begin: StatementSync;
  readonly commit: StatementSync;
  readonly pageSize: number;
  readonly maxPages: number;
  /** The files it has open; undefined in memory or where not followed. */
  readonly files: OpenFiles | undefined;
  /** The file's epoch when it was opened. */
  readonly epoch: string;
  /** Copies the log into the file (not into memory) off the event loop. */
  readonly checkpointer: Checkpointer | undefined;
}

/** The values a statement is run with. */
type Params = SQLInputValue[];

/**
 * A statement of the database: prepared on the connection open now, and
 * again on the next one when the database follows its path to another
 * file. Its errors are {@linkcode StoreError}s.
 */
export class Statement {
  readonly #sql: string;
  readonly #owner: SqliteDatabase;
  #prepared: StatementSync;
  #generation: number;

  constructor(owner: SqliteDatabase, sql: string) {
    this.#owner = owner;
    this.#sql = sql;
    const connection = owner.connection();
    this.#prepared = connection.db.prepare(sql);
    this.#generation = connection.generation;
  }

  /** The first row, or undefined. */
  get(...params: Params): Row | undefined {
    try {
      return this.#statement().get(...params);
    } catch (error) {
      throw this.#owner.explain(error);
    }
  }

  /** Every row. */
  all(...params: Params): Row[] {
    try {
      return this.#statement().all(...params);
    } catch (error) {
      throw this.#owner.explain(error);
    }
  }

  /** Runs it; says how many rows changed. */
  run(...params: Params): StatementResultingChanges {
    try {
      return this.#statement().run(...params);
    } catch (error) {
      throw this.#owner.explain(error);
    }
  }

  #statement(): StatementSync {
    const connection = this.#owner.connection();
    if (connection.generation !== this.#generation) {
      this.#prepared = connection.db.prepare(this.#sql);
      this.#generation = connection.generation;
    }
    return this.#prepared;
  }
}

/**
 * Runs the migrations of `db` in one write transaction, so two isolates
 * starting together cannot both run a step (it is also the first write: a
 * file that cannot be written fails here, at start), and returns the
 * file's epoch: a new one when it is still `replaced`, the epoch of the
 * file it replaces.
 */
function migrate(db: DatabaseSync, path: string, replaced?: string): string {
  return explainOpenFailure(path, () =>
    retryWhileBusy(() => {
      db.exec("BEGIN IMMEDIATE");
      try {
        const version = intField(
          db.prepare("PRAGMA user_version").get() ?? {},
          "user_version",
        );
        if (version > MIGRATIONS.length) {
          throw new StoreOpenError(
            `${path} has schema version ${version}, newer than this server's ${MIGRATIONS.length}`,
          );
        }
        for (const [index, step] of MIGRATIONS.entries()) {
          if (index < version) continue;
          db.exec(step);
          db.exec(`PRAGMA user_version = ${index + 1}`);
        }
        if (replaced !== undefined) {
          db.prepare(
            "UPDATE epoch SET value = lower(hex(randomblob(8))) WHERE id = 1 AND value = ?",
          ).run(replaced);
        }
        const epoch = textField(
          db.prepare("SELECT value FROM epoch WHERE id = 1").get() ?? {},
          "value",
        );
        db.exec("COMMIT");
        return epoch;
      } catch (error) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw error;
      }
    }));
}

/**
 * One open, migrated database file: statements are prepared on it, and
 * every write goes through {@linkcode SqliteDatabase.transaction}.
 */
export class SqliteDatabase {
  readonly #options: SqliteDatabaseOptions;
  readonly #path: string;
  readonly #maxBytes: number;
  #connection: Connection;
  /** Inside {@linkcode SqliteDatabase.transaction}: the file is not left. */
  #inTransaction = false;
  /** When the path is next compared with the open file (ms). */
  #nextFileCheck = 0;
  /** Damage found in the open file, which the probe reports. */
  #damage: StoreError | undefined;
  /** Checkpointers of files left behind, until they have closed. */
  readonly #retiring = new Set<Promise<void>>();
  /**
   * The last write that failed for lack of space, permission or a device
   * error, until a later write succeeds: a health probe's small write can
   * still fit where a message no longer does.
   */
  #writeFailure: { error: StoreError; at: number } | undefined;
  /** When the health write last succeeded (ms since the epoch). */
  #lastProbeWrite = 0;
  /** Rewrites the health row; prepared once the schema has the table. */
  #touchHealth: Statement | undefined;

  private constructor(options: SqliteDatabaseOptions) {
    this.#options = options;
    this.#path = options.path;
    this.#maxBytes = options.maxBytes;
    this.#connection = this.#connect(0, undefined);
  }

  /**
   * Opens the file at `options.path` (creating and migrating it as needed)
   * and checks it for damage.
   *
   * @throws {StoreOpenError} when the file cannot be opened, created,
   * written or migrated.
   */
  static open(options: SqliteDatabaseOptions): SqliteDatabase {
    return new SqliteDatabase(options);
  }

  /** Prepares `sql`; call it after {@linkcode SqliteDatabase.open}. */
  prepare(sql: string): Statement {
    return new Statement(this, sql);
  }

  /**
   * The connection to use now: outside a transaction, to the file the path
   * names (checked at most every {@linkcode FILE_CHECK_INTERVAL_MS}).
   */
  connection(): Connection {
    this.follow();
    return this.#connection;
  }

  /**
   * Opens the file at the path when it is another than the one open, at
   * most every {@linkcode FILE_CHECK_INTERVAL_MS} and never inside a
   * transaction.
   *
   * @throws {StoreError} when the file there cannot be opened; the one
   * open stays open, and the next call tries again.
   */
  follow(): void {
    const files = this.#connection.files;
    if (files === undefined || this.#inTransaction) return;
    const now = Date.now();
    if (now < this.#nextFileCheck) return;
    this.#nextFileCheck = now + FILE_CHECK_INTERVAL_MS;
    if (sameFile(fileAt(this.#path), files.database)) return;
    this.#replace(this.#connection, files);
  }

  /**
   * SQLite's error as a StoreError: damage is remembered (see
   * {@linkcode SqliteDatabase.probe}), and a full disk named as the size
   * limit when it was that.
   */
  explain(error: unknown): unknown {
    if (isDamageError(error)) this.#damaged(error.message);
    return this.#nameLimit(error, classifySqliteError(error));
  }

  /**
   * Runs `work` in one write transaction and returns what it returns; a
   * failure is a {@linkcode StoreError}, and one for lack of space,
   * permission or a device error is remembered until a write succeeds.
   *
   * A write that says about how many `bytes` it adds (a message does) is
   * copied into the file by the checkpoint thread; others (presence, a
   * page each) leave the log to SQLite's own checkpoints, so that people
   * coming and going do not start a second isolate.
   */
  transaction<T>(work: () => T, bytes?: number): T {
    try {
      this.follow();
      const result = this.#attempt(work);
      this.#writeFailure = undefined;
      if (bytes !== undefined) {
        const { checkpointer, pageSize } = this.#connection;
        checkpointer?.wrote(pageSize + bytes);
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
   * Fails with the damage found in the file, if any. Else rewrites the
   * health row in a transaction of its own (unless that succeeded within
   * {@linkcode PROBE_WRITE_INTERVAL_MS}), which neither clears nor sets the
   * remembered failure, then throws that failure if it is recent: the
   * probe's write may succeed where a message's does not.
   */
  probe(): void {
    this.follow();
    if (this.#damage) throw this.#damage;
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
    await this.#connection.checkpointer?.close();
    await Promise.all(this.#retiring);
    this.#connection.db.close();
  }

  /**
   * Opens the file at the path: migrated, its epoch read (a new one when
   * it is still `replaced`, the epoch of the file it replaces), checked.
   */
  #connect(generation: number, replaced: string | undefined): Connection {
    const path = this.#path;
    const db = openDatabase(path);
    try {
      const epoch = migrate(db, path, replaced);
      const integrity = path === ":memory:"
        ? { kind: "ok" as const }
        : checkIntegrity(db, this.#options.integrityMaxBytes);
      this.#options.onIntegrity?.(integrity);
      this.#damage = integrity.kind === "damaged"
        ? this.#damageError(integrity.problem)
        : undefined;
      // A per-connection bound: every isolate sets it for its own.
      const pageSize = intField(
        db.prepare("PRAGMA page_size").get() ?? {},
        "page_size",
      );
      const maxPages = Math.max(1, Math.floor(this.#maxBytes / pageSize));
      db.exec(`PRAGMA max_page_count = ${maxPages}`);
      return {
        db,
        generation,
        pageSize,
        maxPages,
        pageCount: db.prepare("PRAGMA page_count"),
        begin: db.prepare("BEGIN IMMEDIATE"),
        commit: db.prepare("COMMIT"),
        files: path === ":memory:" ? undefined : openFiles(path),
        epoch,
        checkpointer: path === ":memory:" ? undefined : new Checkpointer({
          path,
          onTrouble: this.#options.onCheckpointTrouble ?? (() => {}),
          onLogCopied: () => this.#startLogOver(),
        }),
      };
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /**
   * Leaves the file open (`files`), which the path no longer names, for
   * the file there now: its log copied into it where it can be, its log
   * and index moved out of the new file's way, the new file opened; then
   * it is closed. A copy of it (its epoch) gets a new epoch.
   */
  #replace(old: Connection, files: OpenFiles): void {
    const done: string[] = [];
    try {
      // Briefly: another isolate's reader may hold the log.
      old.db.exec("PRAGMA busy_timeout = 100");
      const [result] = old.db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").all();
      done.push(
        result?.busy === 0
          ? "copied its log into the file it had open"
          : "copied what it could of its log into the file it had open (another connection was using the log)",
      );
    } catch (error) {
      done.push(
        `could not copy its log into the file it had open (${
          error instanceof Error ? error.message : String(error)
        })`,
      );
    }
    try {
      done.push(...setAsideLog(this.#path, files));
      this.#connection = explainOpenFailure(
        this.#path,
        () => this.#connect(old.generation + 1, old.epoch),
      );
    } catch (error) {
      old.db.exec("PRAGMA busy_timeout = 5000");
      throw classifySqliteError(error);
    }
    this.#writeFailure = undefined;
    const retiring = old.checkpointer?.close() ?? Promise.resolve();
    this.#retiring.add(retiring);
    void retiring.finally(() => this.#retiring.delete(retiring));
    old.db.close();
    done.push("closed it");
    this.#options.onFileReplaced?.(done);
  }

  #damageError(problem: string): StoreError {
    return new StoreError(
      `the database ${this.#path} is damaged (${problem})`,
      { kind: "corrupt" },
    );
  }

  /** Remembers damage met while serving; told once per file. */
  #damaged(problem: string): void {
    if (this.#damage) return;
    this.#damage = this.#damageError(problem);
    this.#options.onIntegrity?.({ kind: "damaged", problem });
  }

  #writeHealthRow(now: number): void {
    this.#touchHealth ??= this.prepare(
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
    const { db, begin, commit } = this.#connection;
    try {
      begin.run();
      this.#inTransaction = true;
      try {
        const result = work();
        commit.run();
        return result;
      } catch (error) {
        // SQLite rolls back by itself after some failures (a full disk
        // among them); a ROLLBACK then would throw and hide the real error.
        if (db.isTransaction) db.exec("ROLLBACK");
        throw error;
      } finally {
        this.#inTransaction = false;
      }
    } catch (error) {
      throw this.explain(error);
    }
  }

  /**
   * Names the size limit when a full disk was that. SQLite says "database
   * or disk is full" either way, and has rolled the write back by now, so
   * the file is "at the limit" when the write that failed could have filled
   * the rest: within 64 pages (a large message) or a tenth of the limit. An
   * in-memory database has no disk to fill.
   */
  #nameLimit(error: unknown, classified: unknown): unknown {
    if (!(classified instanceof StoreError) || classified.kind !== "full") {
      return classified;
    }
    const { maxPages, pageCount } = this.#connection;
    const headroom = maxPages - intField(pageCount.get() ?? {}, "page_count");
    if (
      this.#path === ":memory:" || headroom <= Math.max(64, maxPages / 10)
    ) {
      return new StoreError(
        `the database reached its size limit of ${this.#maxBytes} bytes (CHAT_MAX_DB_BYTES)`,
        { kind: "full", cause: error },
      );
    }
    return classified;
  }
}

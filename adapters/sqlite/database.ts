/**
 * The SQLite file under the embedded store: opened through Deno's built-in
 * `node:sqlite` in WAL mode, so that every isolate of `deno serve --parallel`
 * (each with its own connection) can share it; migrated (schema.ts);
 * checked for damage at open; bounded in size; and written only in
 * {@linkcode SqliteDatabase.transaction}, which turns SQLite's errors into
 * {@linkcode StoreError}s and remembers the last write that failed for
 * {@linkcode SqliteDatabase.probe}. Every way the file cannot be used at
 * start is one {@linkcode StoreOpenError} that names the file.
 *
 * The database follows its path (see path_follower.ts): another file
 * there, once settled, is opened in place of the one open.
 *
 * Damage (SQLite's SQLITE_CORRUPT or SQLITE_NOTADB), found at open or met
 * by any call later, is remembered: the probe fails with it (`corrupt`)
 * until the server restarts on a sound file.
 *
 * @module
 */

import {
  connect,
  type Connection,
  damageError,
  nameSizeLimit,
} from "./connection.ts";
import { type FileId, type OpenFiles, sameFile, setAsideLog } from "./file.ts";
import type { Integrity } from "./integrity.ts";
import { classifySqliteError, isDamageError } from "./open.ts";
import { copyLogBack, PathFollower } from "./path_follower.ts";
import { Statement } from "./statement.ts";
import { StoreError } from "../../chat/store.ts";

export { StoreOpenError } from "./open.ts";
export { FILE_CHECK_INTERVAL_MS, FILE_SETTLE_MS } from "./path_follower.ts";

/** What {@linkcode SqliteDatabase.open} needs. */
export interface SqliteDatabaseOptions {
  /** File path, or `:memory:`. Missing folders are created. */
  readonly path: string;
  /** Largest database file in bytes; writes past it fail as `full`. */
  readonly maxBytes: number;
  /**
   * Checkpoints in the background began to fail (with the reason) or work
   * again (undefined); see `Checkpointer` in checkpointer.ts.
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
   * The path names no file any more (deleted): the database writes on to
   * the file it has open, and its probe fails until a file is back.
   * @default nothing is told
   */
  readonly onFileMissing?: () => void;
  /**
   * Files larger than this are not checked at open.
   * @default INTEGRITY_CHECK_MAX_BYTES
   */
  readonly integrityMaxBytes?: number;
}

/** How long a failed write keeps the store unhealthy without a success. */
const WRITE_FAILURE_MEMORY_MS = 5000;

/**
 * The health write runs at most this often (ms); a probe in between says
 * what the last write and the remembered failure say. Each write adds a
 * page to the log: a `/healthz` polled a hundred times a second would fill
 * the space a freed disk gives back before any message could use it.
 */
const PROBE_WRITE_INTERVAL_MS = 1000;

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
  /** Damage found in the open file, which the probe reports. */
  #damage: StoreError | undefined;
  /** Tells when the path names another file than the one open. */
  readonly #follower: PathFollower;
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
    this.#follower = new PathFollower(options.path, options.onFileMissing);
    const { connection, integrity } = this.#connect(0, undefined);
    this.#connection = connection;
    this.#damage = this.#damageOf(integrity);
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
   * Opens the file at the path when it is another than the one open and
   * has settled ({@linkcode FILE_SETTLE_MS}); looks at most every
   * {@linkcode FILE_CHECK_INTERVAL_MS}, never inside a transaction. A path
   * that names no file is not made again: what the server stores would
   * vanish with a file put there later, and its log could be taken for
   * that file's. The open file is kept, and the probe fails saying so.
   *
   * @throws {StoreError} when the file there cannot be opened; the one
   * open stays open, and the next call tries again.
   */
  follow(): void {
    const files = this.#connection.files;
    if (files === undefined || this.#inTransaction) return;
    const look = this.#follower.look(files.database);
    if (look.kind === "unchecked" || look.kind === "same") return;
    // The checkpoint thread opens the file by its path when it starts: it
    // must not open another than this connection's. SQLite's own
    // checkpoints go on in the commits.
    this.#closeCheckpointer(this.#connection);
    if (look.kind === "settled") {
      this.#replace(this.#connection, files, look.file);
    }
  }

  /**
   * SQLite's error as a StoreError: damage is remembered (see
   * {@linkcode SqliteDatabase.probe}), and a full disk named as the size
   * limit when it was that.
   */
  explain(error: unknown): unknown {
    if (isDamageError(error)) this.#damaged(error.message);
    return nameSizeLimit(error, classifySqliteError(error), {
      connection: this.#connection,
      path: this.#path,
      maxBytes: this.#maxBytes,
    });
  }

  /**
   * Runs `work` in one write transaction and returns what it returns; a
   * failure is a {@linkcode StoreError}, and one for lack of space,
   * permission or a device error is remembered until a write succeeds.
   *
   * A write that says about how many `bytes` it adds (a message does) is
   * copied into the file by the checkpoint thread; others (presence, a
   * page each) leave the log to SQLite's own checkpoints.
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
   * Counts a committed write of about `bytes` (plus a page) toward the
   * checkpoint thread's next copy of the log. Presence writes are small and
   * come in crowds: a room where hundreds come and go each second fills
   * SQLite's 1000 pages in a second or two, and the commit that crosses the
   * mark would copy them and sync the file on the event loop (90 ms
   * measured); counted, they are copied by the thread like messages.
   */
  wroteInPassing(bytes: number): void {
    const { checkpointer, pageSize } = this.#connection;
    checkpointer?.wrote(pageSize + bytes);
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
    const missing = this.#follower.missing;
    if (missing) throw missing;
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
   * Resolves once the checkpoint thread runs (see
   * {@linkcode Checkpointer.started}); at once for `:memory:`.
   */
  get started(): Promise<void> {
    return this.#connection.checkpointer?.started ?? Promise.resolve();
  }

  /**
   * Closes the connection, once the checkpoint thread has closed its own:
   * the last one to close copies what is left of the log into the file,
   * and nothing touches the file after this resolves.
   */
  async close(): Promise<void> {
    await this.#connection.checkpointer?.close();
    await Promise.all([...this.#retiring]);
    this.#connection.db.close();
  }

  /**
   * Opens the file at the path: migrated, its epoch read (a new one when
   * it is still `replaced`, the epoch of the file it replaces), checked.
   */
  #connect(
    generation: number,
    replaced: string | undefined,
  ): { connection: Connection; integrity: Integrity } {
    return connect({
      path: this.#path,
      maxBytes: this.#maxBytes,
      generation,
      replaced,
      integrityMaxBytes: this.#options.integrityMaxBytes,
      onIntegrity: this.#options.onIntegrity,
      onCheckpointTrouble: this.#options.onCheckpointTrouble,
      onLogCopied: () => this.#startLogOver(),
    });
  }

  /** Closes a connection the database no longer uses. */
  #retire(connection: Connection): void {
    this.#closeCheckpointer(connection);
    connection.db.close();
  }

  /** Closes the checkpoint thread of `connection`; close() waits for it. */
  #closeCheckpointer(connection: Connection): void {
    const closed = connection.checkpointer?.close();
    if (!closed) return;
    this.#retiring.add(closed);
    void closed.finally(() => this.#retiring.delete(closed));
  }

  /**
   * Leaves the file open (`files`), which the path no longer names, for
   * the file there now (`next`): its log copied into it where it can be,
   * its log and index moved out of the new file's way, the new file
   * opened; then it is closed. A copy of it (its epoch) gets a new epoch.
   */
  #replace(old: Connection, files: OpenFiles, next: FileId): void {
    const done = [copyLogBack(old.db)];
    let opened: { connection: Connection; integrity: Integrity };
    try {
      done.push(...setAsideLog(this.#path, files));
      opened = this.#connect(old.generation + 1, old.epoch);
    } catch (error) {
      old.db.exec("PRAGMA busy_timeout = 5000");
      throw classifySqliteError(error);
    }
    if (!sameFile(opened.connection.files?.database, next)) {
      // The path changed again while it was being opened: look again.
      this.#retire(opened.connection);
      old.db.exec("PRAGMA busy_timeout = 5000");
      throw new StoreError(
        `the database file ${this.#path} changed while it was being opened`,
        { kind: "busy" },
      );
    }
    this.#connection = opened.connection;
    this.#damage = this.#damageOf(opened.integrity);
    this.#follower.opened();
    this.#writeFailure = undefined;
    this.#retire(old);
    done.push("closed it");
    this.#options.onFileReplaced?.(done);
  }

  #damageOf(integrity: Integrity): StoreError | undefined {
    return integrity.kind === "damaged"
      ? damageError(this.#path, integrity.problem)
      : undefined;
  }

  /** Remembers damage met while serving; told once per file. */
  #damaged(problem: string): void {
    if (this.#damage) return;
    this.#damage = damageError(this.#path, problem);
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
   * reordered write after a power loss). That sync is a disk flush: left to
   * a message's commit (every sixtieth message or so) it would hold the
   * event loop and the message, so the health write takes it, between
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
}

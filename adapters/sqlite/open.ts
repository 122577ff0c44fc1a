/**
 * Opening the SQLite file: its folder created, the file checked before
 * SQLite gets it, WAL mode set, and every way it cannot be used at start
 * turned into one {@linkcode StoreOpenError} that names the file. Also how
 * SQLite's errors become {@linkcode StoreError}s of the right kind.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import {
  StoreError,
  type StoreErrorKind,
  StoreOpenError,
} from "../../chat/store.ts";

export { StoreOpenError };

/** What SQLite says when the file's content is damaged or not a database. */
const DAMAGED = /malformed|not a database|SQLITE_CORRUPT|SQLITE_NOTADB/i;

/** SQLite's primary result codes for a damaged file, and for no database. */
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/** Whether SQLite's `error` says that the file's content is damaged. */
export function isDamageError(error: unknown): error is Error {
  if (!(error instanceof Error) || error instanceof StoreError) return false;
  // node:sqlite puts SQLite's (extended) result code in `errcode`.
  const code = "errcode" in error && typeof error.errcode === "number"
    ? error.errcode & 0xff
    : undefined;
  return code === SQLITE_CORRUPT || code === SQLITE_NOTADB ||
    DAMAGED.test(error.message);
}

/**
 * Runs `work` on the database at `path`, turning what SQLite and Deno say
 * when a file cannot be used into one sentence about that file.
 */
export function explainOpenFailure<T>(path: string, work: () => T): T {
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
    if (isDamageError(error)) {
      throw new StoreOpenError(
        `The database ${path} is damaged beyond opening (${why}); restore it from a backup`,
        { kind: "corrupt" },
      );
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
export function openDatabase(path: string): DatabaseSync {
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
      : isDamageError(error)
      ? "corrupt"
      : "other";
  return new StoreError(why, { kind, cause: error });
}

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
export function retryWhileBusy<T>(work: () => T, budgetMs = 5000): T {
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

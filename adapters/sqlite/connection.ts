/**
 * One connection of the SQLite database to one file: opened, migrated, its
 * epoch read, checked for damage, bounded in size, with the statements
 * every transaction runs prepared once and the checkpoint thread that
 * copies its log. Also names the size limit when a full disk was that,
 * and damage found in the file.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { Checkpointer } from "./checkpointer.ts";
import { type OpenFiles, openFiles } from "./file.ts";
import { checkIntegrity, type Integrity } from "./integrity.ts";
import { openDatabase } from "./open.ts";
import { intField } from "./rows.ts";
import { migrate } from "./schema.ts";
import { StoreError } from "../../chat/store.ts";

/** One connection to one file, and what is prepared on it. */
export interface Connection {
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

/** What {@linkcode connect} needs. */
export interface ConnectOptions {
  /** File path, or `:memory:`. */
  readonly path: string;
  /** Largest database file in bytes. */
  readonly maxBytes: number;
  /** Counts the connections of the database. */
  readonly generation: number;
  /** The epoch of the file this one replaces, if any. */
  readonly replaced: string | undefined;
  /** Files larger than this are not checked. */
  readonly integrityMaxBytes: number | undefined;
  /** Told what the integrity check found. */
  readonly onIntegrity: ((integrity: Integrity) => void) | undefined;
  /** Told when background checkpoints fail or work again. */
  readonly onCheckpointTrouble:
    | ((reason: string | undefined) => void)
    | undefined;
  /** The checkpoint thread copied all of the log. */
  readonly onLogCopied: () => void;
}

/**
 * Opens the file at the path: migrated, its epoch read (a new one when
 * it is still `replaced`, the epoch of the file it replaces), checked.
 */
export function connect(
  options: ConnectOptions,
): { connection: Connection; integrity: Integrity } {
  const { path } = options;
  const db = openDatabase(path);
  try {
    const epoch = migrate(db, path, options.replaced);
    const integrity: Integrity = path === ":memory:"
      ? { kind: "ok" }
      : checkIntegrity(db, options.integrityMaxBytes);
    options.onIntegrity?.(integrity);
    // A per-connection bound: every isolate sets it for its own.
    const pageSize = intField(
      db.prepare("PRAGMA page_size").get() ?? {},
      "page_size",
    );
    const maxPages = Math.max(1, Math.floor(options.maxBytes / pageSize));
    db.exec(`PRAGMA max_page_count = ${maxPages}`);
    const connection: Connection = {
      db,
      generation: options.generation,
      pageSize,
      maxPages,
      pageCount: db.prepare("PRAGMA page_count"),
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      files: path === ":memory:" ? undefined : openFiles(path),
      epoch,
      checkpointer: path === ":memory:" ? undefined : new Checkpointer({
        path,
        onTrouble: options.onCheckpointTrouble ?? (() => {}),
        onLogCopied: options.onLogCopied,
      }),
    };
    // Its thread opens the file by its path: now, while the path names
    // this connection's file, and not once another file may be there.
    // A failure here is also the next checkpoint's, which tells of it
    // (see onTrouble); a close before the thread answered is none.
    connection.checkpointer?.checkpoint().catch(() => {});
    return { connection, integrity };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The error that damage (`problem`) in the file at `path` is. */
export function damageError(path: string, problem: string): StoreError {
  return new StoreError(`the database ${path} is damaged (${problem})`, {
    kind: "corrupt",
  });
}

/**
 * Names the size limit when a full disk was that. SQLite says "database
 * or disk is full" either way, and has rolled the write back by now, so
 * the file is "at the limit" when the write that failed could have filled
 * the rest: within 64 pages (a large message) or a tenth of the limit. An
 * in-memory database has no disk to fill.
 */
export function nameSizeLimit(
  error: unknown,
  classified: unknown,
  options: {
    readonly connection: Connection;
    readonly path: string;
    readonly maxBytes: number;
  },
): unknown {
  if (!(classified instanceof StoreError) || classified.kind !== "full") {
    return classified;
  }
  const { maxPages, pageCount } = options.connection;
  const headroom = maxPages - intField(pageCount.get() ?? {}, "page_count");
  if (
    options.path === ":memory:" || headroom <= Math.max(64, maxPages / 10)
  ) {
    return new StoreError(
      `the database reached its size limit of ${options.maxBytes} bytes (CHAT_MAX_DB_BYTES)`,
      { kind: "full", cause: error },
    );
  }
  return classified;
}

/**
 * Following the database's path: whether the path still names the file
 * the database has open, names no file (deleted), or names another file
 * that has settled and can be opened in its place; and the hand-over of
 * the log of the file left behind. The database (database.ts) acts on
 * what {@linkcode PathFollower.look} finds.
 *
 * The database follows its path: when the path names another file than
 * the one open (a backup put back, another file moved over it, a deleted
 * file made again), the next call after that file has settled opens it,
 * so that what the server stores is what a copy of that path holds. The
 * file's epoch (see `RoomPosition` in store.ts) tells rooms that the log
 * they delivered is gone; a file that replaces another is given a new one
 * even when it is a copy of it, as its ids may name other messages now. A
 * path that names no file is not made again by the server: the probe fails
 * saying so until a file is back.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { fileAt, type FileId, isWhole, sameFile } from "./file.ts";
import { StoreError } from "../../chat/store.ts";

/**
 * How often (ms) the database asks whether its path still names the file
 * it has open: a `stat`, about 8 µs, at most this often, on the next call.
 */
export const FILE_CHECK_INTERVAL_MS = 250;

/**
 * Another file at the path is opened once the path has named it this long
 * (ms), and it holds all the pages its header counts: a file being moved
 * into place in steps, or copied, is not opened half way.
 */
export const FILE_SETTLE_MS = 500;

/**
 * What the path names: `unchecked` between looks, the open file (`same`),
 * no file (`missing`), another file not yet settled (`arriving`), or
 * another file ready to be opened (`settled`, with its identity).
 */
export type Look =
  | { readonly kind: "unchecked" | "same" | "missing" | "arriving" }
  | { readonly kind: "settled"; readonly file: FileId };

/** Watches one path for another file than the one open. */
export class PathFollower {
  readonly #path: string;
  readonly #onFileMissing: (() => void) | undefined;
  /** When the path is next compared with the open file (ms). */
  #nextCheck = 0;
  /** Another file seen at the path, and when it was first seen so (ms). */
  #arriving: { readonly file: FileId; readonly seenAt: number } | undefined;
  /** Set while the path names no file; the probe reports it. */
  #missing: StoreError | undefined;

  constructor(path: string, onFileMissing: (() => void) | undefined) {
    this.#path = path;
    this.#onFileMissing = onFileMissing;
  }

  /** Why the store is unusable while the path names no file. */
  get missing(): StoreError | undefined {
    return this.#missing;
  }

  /** The database opened the file at the path: nothing is missing. */
  opened(): void {
    this.#arriving = undefined;
    this.#missing = undefined;
  }

  /**
   * Compares the path with `open`, the file open now, at most every
   * {@linkcode FILE_CHECK_INTERVAL_MS}; another file is `settled` once the
   * path has named it for {@linkcode FILE_SETTLE_MS} and it is whole. A
   * path found to name no file is told once (`onFileMissing`).
   */
  look(open: FileId): Look {
    const now = Date.now();
    if (now < this.#nextCheck) return { kind: "unchecked" };
    this.#nextCheck = now + FILE_CHECK_INTERVAL_MS;
    const at = fileAt(this.#path);
    if (sameFile(at, open)) {
      this.opened();
      return { kind: "same" };
    }
    if (at === undefined) {
      this.#arriving = undefined;
      if (!this.#missing) {
        this.#missing = new StoreError(
          `the database file ${this.#path} was deleted under the running server; what is stored now goes to the deleted file and is lost when the server stops: put a database file back at ${this.#path}`,
          { kind: "io" },
        );
        this.#onFileMissing?.();
      }
      return { kind: "missing" };
    }
    const arriving = this.#arriving;
    if (!arriving || !sameFile(arriving.file, at)) {
      this.#arriving = { file: at, seenAt: now };
      return { kind: "arriving" };
    }
    if (now - arriving.seenAt < FILE_SETTLE_MS || !isWhole(this.#path, at)) {
      return { kind: "arriving" };
    }
    this.#arriving = undefined;
    return { kind: "settled", file: at };
  }
}

/**
 * Copies the log of the file being left (`db`, which the path no longer
 * names) into that file where it can, so that what it holds is in the
 * file whoever keeps it. Says what was done, for the log.
 */
export function copyLogBack(db: DatabaseSync): string {
  try {
    // Briefly: another isolate's reader may hold the log.
    db.exec("PRAGMA busy_timeout = 100");
    const [result] = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").all();
    return result?.busy === 0
      ? "copied its log into the file it had open"
      : "copied what it could of its log into the file it had open (another connection was using the log)";
  } catch (error) {
    return `could not copy its log into the file it had open (${
      error instanceof Error ? error.message : String(error)
    })`;
  }
}

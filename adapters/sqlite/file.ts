/**
 * Which files a SQLite connection has open, so that the database can tell
 * when its path names another file (replaced, or deleted and made again
 * under the running server) and follow it, once that file has settled and
 * is whole (a copy still being written is not opened). A connection keeps writing to
 * the file it opened whatever happens to the path, and SQLite pairs a
 * database with the write-ahead log and shared-memory index found beside
 * it by name: the log of the file that was replaced must not be taken for
 * the new file's.
 *
 * @module
 */

/** A file's identity: its device and inode; and its size. */
export interface FileId {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
}

/**
 * The file at `path` now: undefined when there is none, or where the
 * system gives no inode (Windows), where files are not followed.
 */
export function fileAt(path: string): FileId | undefined {
  try {
    const { dev, ino, size } = Deno.statSync(path);
    return ino === null ? undefined : { dev, ino, size };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** The first bytes of every SQLite database file. */
const SQLITE_HEADER = new TextEncoder().encode("SQLite format 3\0");

/**
 * Whether the file at `path` (`file`) holds as many pages as its header
 * counts: a copy still being written does not yet. An empty file is an
 * empty database; one that is no SQLite database at all is left for
 * SQLite to refuse.
 */
export function isWhole(path: string, file: FileId): boolean {
  if (file.size === 0) return true;
  const header = new Uint8Array(100);
  let read = 0;
  const handle = Deno.openSync(path, { read: true });
  try {
    while (read < header.length) {
      const got = handle.readSync(header.subarray(read));
      if (got === null) break;
      read += got;
    }
  } finally {
    handle.close();
  }
  if (!SQLITE_HEADER.every((byte, index) => header[index] === byte)) {
    return read >= SQLITE_HEADER.length;
  }
  const view = new DataView(header.buffer);
  const pageSize = view.getUint16(16) === 1 ? 65536 : view.getUint16(16);
  return file.size >= pageSize * view.getUint32(28);
}

/** Whether two identities are one file. */
export function sameFile(a: FileId | undefined, b: FileId | undefined) {
  return a !== undefined && b !== undefined && a.dev === b.dev &&
    a.ino === b.ino;
}

/** The files of one open database file. */
export interface OpenFiles {
  readonly database: FileId;
  /** Its write-ahead log, and the log's shared-memory index. */
  readonly log: FileId | undefined;
  readonly index: FileId | undefined;
}

/**
 * The files a connection to `path` has open: read once it has opened
 * them (after its first transaction). Undefined where files are not
 * followed.
 */
export function openFiles(path: string): OpenFiles | undefined {
  const database = fileAt(path);
  if (database === undefined) return undefined;
  return {
    database,
    log: fileAt(`${path}-wal`),
    index: fileAt(`${path}-shm`),
  };
}

/**
 * Moves the log and index of the replaced file `was` out of the way of the
 * file at `path` now, where they are still beside it (a file replaced by
 * moving another over it, or moved away alone): the log is kept as
 * `<path>-wal.replaced-<time>` (it may hold the last transactions of the
 * replaced file), the index, rebuilt by SQLite from a log, is removed.
 * Connections still open on the replaced file keep using both. Returns
 * what it did, for the log.
 */
export function setAsideLog(path: string, was: OpenFiles): string[] {
  const done: string[] = [];
  const log = `${path}-wal`;
  if (sameFile(fileAt(log), was.log)) {
    const aside = `${log}.replaced-${Date.now()}`;
    Deno.renameSync(log, aside);
    done.push(`moved its log to ${aside}`);
  }
  const index = `${path}-shm`;
  if (sameFile(fileAt(index), was.index)) {
    Deno.removeSync(index);
    done.push(`removed its index ${index}`);
  }
  return done;
}

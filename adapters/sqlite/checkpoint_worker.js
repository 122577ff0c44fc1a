/**
 * The SQLite checkpointer's own thread (see sqlite_checkpointer.ts): a
 * second connection to the database file that copies the write-ahead log
 * into the database when asked. A checkpoint ends in an fsync, which can take
 * tens of milliseconds; here it does not stop the server's event loop.
 * Loaded as text and started from a blob URL, so that a bundle or a compiled
 * binary carries it without a file of its own.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";

// Whatever Deno sets up the first time a thread formats a stack is done
// now, while file descriptors are free (see platform/descriptors.ts).
void new Error("Formatting a stack at start").stack;

let path;
let db;
let checkpoint;

function failed(id, error) {
  self.postMessage({
    type: "failed",
    id,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * The checkpoint statement on this thread's connection, opened first if it
 * is not: at start, or at the next checkpoint after opening failed (the
 * thread stays to try again).
 */
function connect() {
  if (checkpoint) return checkpoint;
  // Never make an empty database where the file was deleted: SQLite would
  // create one at a path that names no file (throws NotFound instead).
  Deno.statSync(path);
  const connection = new DatabaseSync(path);
  try {
    // A writer holds its lock for one short transaction at most.
    connection.exec("PRAGMA busy_timeout = 5000");
    checkpoint = connection.prepare("PRAGMA wal_checkpoint(PASSIVE)");
    // SQLite opens the log and its index at a connection's first use; a
    // first checkpoint now has them open before a flood can take every
    // descriptor.
    checkpoint.all();
  } catch (error) {
    connection.close();
    throw error;
  }
  db = connection;
  return checkpoint;
}

/** Closes the connection, if open. */
function disconnect() {
  checkpoint = undefined;
  if (db?.isOpen) db.close();
  db = undefined;
}

self.onmessage = (event) => {
  const { type, id } = event.data ?? {};
  if (type === "open" && typeof event.data.path === "string") {
    path = event.data.path;
    try {
      connect();
      self.postMessage({ type: "opened" });
    } catch (error) {
      disconnect();
      failed(undefined, error);
    }
  } else if (type === "close") {
    disconnect();
    // The owner waits for this before it closes the last connection.
    self.postMessage({ type: "closed" });
    self.close();
  } else if (type === "checkpoint" && path !== undefined) {
    try {
      // PASSIVE: copies what it can without waiting for or blocking the
      // server's writes.
      // all(), not get(): it steps the statement to its end and resets it,
      // so this connection keeps no read transaction open, which would stop
      // the server's connection from starting the log over.
      const [row] = connect().all();
      self.postMessage({
        type: "checkpointed",
        id,
        busy: row.busy,
        log: row.log,
        checkpointed: row.checkpointed,
      });
    } catch (error) {
      failed(id, error);
    }
  }
};

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

let db;
let checkpoint;

function failed(id, error) {
  self.postMessage({
    type: "failed",
    id,
    message: error instanceof Error ? error.message : String(error),
  });
}

self.onmessage = (event) => {
  const { type, id, path } = event.data ?? {};
  if (type === "open" && typeof path === "string") {
    try {
      db = new DatabaseSync(path);
      // A writer holds its lock for one short transaction at most.
      db.exec("PRAGMA busy_timeout = 5000");
      checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
    } catch (error) {
      failed(undefined, error);
    }
  } else if (type === "close") {
    db?.close();
    // The owner waits for this before it closes the last connection.
    self.postMessage({ type: "closed" });
    self.close();
  } else if (type === "checkpoint" && db) {
    try {
      // PASSIVE: copies what it can without waiting for or blocking the
      // server's writes.
      // all(), not get(): it steps the statement to its end and resets it,
      // so this connection keeps no read transaction open, which would stop
      // the server's connection from starting the log over.
      const [row] = checkpoint.all();
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

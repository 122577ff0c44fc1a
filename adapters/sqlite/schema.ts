/**
 * The SQLite file's schema: its migrations, one step per version, and the
 * transaction that runs them when a file is opened and reads the file's
 * epoch.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { intField, textField } from "./rows.ts";
import { explainOpenFailure, retryWhileBusy, StoreOpenError } from "./open.ts";

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
  // Names clash by what they look like (chat/name_key.ts), not by their
  // text: the key of each name online, and the lookup by it. Rows are
  // rewritten by every node's next heartbeat, which fills the key in.
  `ALTER TABLE presence ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
   CREATE INDEX presence_by_key ON presence (room, name_key);`,
  // The webhook outbox (outbox.ts): events written with what caused them,
  // the rooms that have some, and each receiver's place in each room.
  `CREATE TABLE IF NOT EXISTS webhook_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     room TEXT NOT NULL,
     id TEXT NOT NULL,
     at INTEGER NOT NULL,
     body BLOB NOT NULL
   );
   CREATE INDEX IF NOT EXISTS webhook_events_by_room
     ON webhook_events (room, seq);
   CREATE TABLE IF NOT EXISTS webhook_rooms (
     room TEXT PRIMARY KEY,
     last_seq INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS webhook_cursors (
     receiver TEXT NOT NULL,
     room TEXT NOT NULL,
     delivered INTEGER NOT NULL DEFAULT 0,
     attempts INTEGER NOT NULL DEFAULT 0,
     due_at INTEGER NOT NULL DEFAULT 0,
     lease_owner TEXT NOT NULL DEFAULT '',
     lease_until INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (receiver, room)
   ) WITHOUT ROWID;`,
  // Conversation (chat/conversation_store.ts): who may edit and delete a
  // message, its edit, its reactions; a message's notes go with it.
  `ALTER TABLE messages ADD COLUMN owner TEXT;
   CREATE TABLE edits (
     room TEXT NOT NULL,
     id INTEGER NOT NULL,
     message BLOB NOT NULL,
     edited TEXT NOT NULL,
     PRIMARY KEY (room, id)
   ) WITHOUT ROWID;
   CREATE TABLE reactions (
     room TEXT NOT NULL,
     id INTEGER NOT NULL,
     emoji TEXT NOT NULL,
     owner TEXT NOT NULL,
     user TEXT NOT NULL,
     UNIQUE (room, id, emoji, owner)
   );
   CREATE TRIGGER messages_notes_go AFTER DELETE ON messages BEGIN
     DELETE FROM edits WHERE room = OLD.room AND id = OLD.id;
     DELETE FROM reactions WHERE room = OLD.room AND id = OLD.id;
   END;`,
  // Moderation (moderation.ts): the mutes and bans in force (`room` NULL
  // for every room, `until_ms` NULL for good), the guest addresses each
  // applies to, and the audit log.
  `CREATE TABLE IF NOT EXISTS sanctions (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     room TEXT,
     owner TEXT,
     at TEXT NOT NULL,
     until_ms INTEGER,
     body TEXT NOT NULL
   );
   CREATE INDEX IF NOT EXISTS sanctions_by_owner ON sanctions (owner, kind);
   CREATE INDEX IF NOT EXISTS sanctions_by_until ON sanctions (until_ms);
   CREATE TABLE IF NOT EXISTS sanction_addresses (
     address TEXT NOT NULL,
     id TEXT NOT NULL,
     UNIQUE (address, id)
   );
   CREATE INDEX IF NOT EXISTS sanction_addresses_by_id
     ON sanction_addresses (id);
   CREATE TRIGGER IF NOT EXISTS sanctions_addresses_go
     AFTER DELETE ON sanctions BEGIN
     DELETE FROM sanction_addresses WHERE id = OLD.id;
   END;
   CREATE TABLE IF NOT EXISTS audit (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     room TEXT,
     body TEXT NOT NULL
   );
   CREATE INDEX IF NOT EXISTS audit_by_room ON audit (room, id);`,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Runs the migrations of `db` in one write transaction, so two isolates
 * starting together cannot both run a step (it is also the first write: a
 * file that cannot be written fails here, at start), and returns the
 * file's epoch: a new one when it is still `replaced`, the epoch of the
 * file it replaces.
 */
export function migrate(
  db: DatabaseSync,
  path: string,
  replaced?: string,
): string {
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

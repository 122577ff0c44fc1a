/**
 * The embedded {@linkcode Store}: one SQLite file through Deno's built-in
 * `node:sqlite`, in WAL mode so that every isolate of `deno serve --parallel`
 * (each with its own connection) can share it. Room ids are handed out in
 * write transactions, so writers on the same file never collide.
 *
 * This module composes the parts: the file and its writes
 * (`sqlite_database.ts`), the message log (`sqlite_messages.ts`),
 * presence (`sqlite_presence.ts`) and moderation (`moderation.ts`), and
 * adds the health probe.
 *
 * @module
 */

import { SqliteDatabase } from "./database.ts";
import { INTEGRITY_CHECK_MAX_BYTES } from "./integrity.ts";
import { openSqliteMessages } from "./messages.ts";
import { openSqliteConversation } from "./conversation.ts";
import { openSqliteModeration } from "./moderation.ts";
import { annotated } from "../../chat/annotated.ts";
import { openSqlitePresence } from "./presence.ts";
import { openSqliteOutbox, OutboxWriter } from "./outbox.ts";
import type { Store } from "../../chat/store.ts";
import { type Logger, silentLogger } from "../../chat/logger.ts";

/** Options for {@linkcode openSqliteStore}. */
export interface SqliteStoreOptions {
  /** File path, or `:memory:`. Missing folders are created. */
  readonly path: string;
  /** Messages kept per room; older ones are pruned. */
  readonly historyMax: number;
  /** How many of a room's latest ids a repeated `cid` is looked for in. */
  readonly dedupeWindow: number;
  /** Rooms that may hold messages at once; a new room past it is refused. */
  readonly maxRooms: number;
  /** Largest database file in bytes; writes past it fail as `full`. */
  readonly maxBytes: number;
  /** Presence entries not refreshed for this long (ms) are stale. */
  readonly presenceTtlMs: number;
  /**
   * Files larger than this are not checked for damage at open.
   * @default INTEGRITY_CHECK_MAX_BYTES
   */
  readonly integrityMaxBytes?: number;
  /**
   * Write webhook events with what causes them (see outbox.ts).
   * @default false
   */
  readonly webhooks?: boolean;
  /** Clock for presence. @default Date.now */
  readonly now?: () => number;
  /** @default silentLogger */
  readonly log?: Logger;
}

/** The SQLite store. */
export interface SqliteStore extends Store {
  /**
   * Resolves once the store's own thread (its checkpoints) runs; never
   * rejects. A server waits for it before it listens (see
   * `sqlite_checkpointer.ts`).
   */
  readonly started: Promise<void>;
}

/**
 * Opens (creating and migrating as needed) a SQLite store.
 *
 * @throws {StoreOpenError} (of `chat/store.ts`) when the file cannot
 * be opened, created, written or migrated.
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const now = options.now ?? Date.now;
  const log = options.log ?? silentLogger;
  const database = SqliteDatabase.open({
    path: options.path,
    maxBytes: options.maxBytes,
    onCheckpointTrouble: (reason) => {
      if (reason === undefined) {
        log.info("store.checkpoints_resumed", { path: options.path });
      } else {
        log.warn("store.checkpoints_failing", {
          path: options.path,
          reason,
          action: "retried each second; SQLite checkpoints in its commits",
        });
      }
    },
    onIntegrity: (integrity) => {
      if (integrity.kind === "damaged") {
        log.error("store.corrupt", {
          path: options.path,
          problem: integrity.problem,
          action:
            "/healthz answers 503 corrupt; stop the server and restore a backup, or recover what is readable with sqlite3 .recover",
        });
      } else if (integrity.kind === "unchecked") {
        log.info("store.integrity_unchecked", {
          path: options.path,
          bytes: integrity.bytes,
          action: `larger than ${
            options.integrityMaxBytes ?? INTEGRITY_CHECK_MAX_BYTES
          } bytes: not checked at start; damage met while serving is still reported`,
        });
      }
    },
    onFileMissing: () => {
      log.warn("store.file_missing", {
        path: options.path,
        action:
          "writing on to the deleted file, which is lost when the server stops; /healthz answers 503 until a database file is back at the path",
      });
    },
    onFileReplaced: (done) => {
      log.warn("store.file_replaced", {
        path: options.path,
        done,
        action: "opened the file now at the path; rooms start over",
      });
    },
    ...(options.integrityMaxBytes === undefined
      ? {}
      : { integrityMaxBytes: options.integrityMaxBytes }),
  });
  const writer = options.webhooks ? new OutboxWriter(database) : undefined;
  const messageLog = openSqliteMessages(database, {
    historyMax: options.historyMax,
    dedupeWindow: options.dedupeWindow,
    maxRooms: options.maxRooms,
    ...(writer ? { outbox: writer } : {}),
  });
  const conversation = openSqliteConversation(database, messageLog);
  const messages = annotated(messageLog, conversation);
  const moderation = openSqliteModeration(
    database,
    writer ? { outbox: writer } : {},
  );
  const presence = openSqlitePresence(database, {
    ttlMs: options.presenceTtlMs,
    now,
    ...(writer ? { outbox: writer } : {}),
  });

  let open = true;
  return {
    messages,
    presence,
    ...(writer ? { outbox: openSqliteOutbox(database, writer) } : {}),
    conversation,
    moderation,
    started: database.started,
    ping() {
      return Promise.resolve().then(() => database.probe());
    },
    async close() {
      if (open) {
        open = false;
        await database.close();
      }
    },
  };
}

/**
 * The webhook outbox in SQLite: `webhook_events` holds each event (its
 * `seq` from AUTOINCREMENT, so never reused and in commit order),
 * `webhook_rooms` the rooms that have some and their newest, and
 * `webhook_cursors` each receiver's place in each room with its failed
 * attempts, when it is due again and who leases it. The message log and
 * presence write events through {@linkcode OutboxWriter} inside their own
 * transactions, so an event is stored exactly when what caused it is.
 *
 * @module
 */

import type { SqliteDatabase } from "./database.ts";
import { intField, type Row, textField } from "./rows.ts";
import type { WebhookPayload } from "../../chat/webhook_events.ts";
import {
  type OutboxBacklog,
  type OutboxClaim,
  type OutboxEvent,
  type OutboxRoom,
  parseOutboxRoom,
  type WebhookOutbox,
  WriteSignal,
} from "../../chat/outbox.ts";
import { StoreError } from "../../chat/store.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Writes events; call {@linkcode OutboxWriter.write} inside a transaction. */
export class OutboxWriter {
  readonly #insert;
  readonly #touchRoom;
  readonly #signal = new WriteSignal();

  constructor(database: SqliteDatabase) {
    this.#insert = database.prepare(
      "INSERT INTO webhook_events (room, id, at, body) VALUES (?, ?, ?, ?)",
    );
    this.#touchRoom = database.prepare(
      `INSERT INTO webhook_rooms (room, last_seq) VALUES (?, ?)
       ON CONFLICT (room) DO UPDATE SET last_seq = excluded.last_seq`,
    );
  }

  /** Stores `events` in the transaction that is open. */
  write(events: readonly WebhookPayload[]): void {
    for (const event of events) {
      const { lastInsertRowid } = this.#insert.run(
        event.room,
        event.id,
        Date.parse(event.ts),
        encoder.encode(JSON.stringify(event)),
      );
      this.#touchRoom.run(event.room, lastInsertRowid);
    }
    // Told after the turn, so after the commit: the transaction is synchronous.
    if (events.length > 0) this.#signal.wrote();
  }

  /** Calls `listener` once after each turn in which events were written. */
  onWrite(listener: () => void): () => void {
    return this.#signal.onWrite(listener);
  }
}

/** The outbox room in column `key`, or a {@linkcode StoreError}. */
function outboxRoomField(row: Row, key: string): OutboxRoom {
  const room = parseOutboxRoom(textField(row, key));
  if (room !== undefined) return room;
  throw new StoreError(`Column ${key} holds an invalid outbox room`);
}

function toEvent(row: Row): OutboxEvent {
  const body = row.body;
  if (!(body instanceof Uint8Array)) {
    throw new StoreError(`Column body holds ${typeof body}, not UTF-8 bytes`);
  }
  return {
    seq: intField(row, "seq"),
    id: textField(row, "id"),
    room: outboxRoomField(row, "room"),
    at: intField(row, "at"),
    body: decoder.decode(body),
  };
}

/** The outbox of the open, migrated `database`, written by `writer`. */
export function openSqliteOutbox(
  database: SqliteDatabase,
  writer: OutboxWriter,
): WebhookOutbox {
  const dueRooms = database.prepare(
    `SELECT w.room AS room, COALESCE(c.attempts, 0) AS attempts
     FROM webhook_rooms w LEFT JOIN webhook_cursors c
       ON c.receiver = ?1 AND c.room = w.room
     WHERE w.last_seq > COALESCE(c.delivered, 0)
       AND COALESCE(c.due_at, 0) <= ?2 AND COALESCE(c.lease_until, 0) <= ?2
     LIMIT ?3`,
  );
  const lease = database.prepare(
    `INSERT INTO webhook_cursors (receiver, room, lease_owner, lease_until)
     VALUES (?, ?, ?, ?)
     ON CONFLICT (receiver, room) DO UPDATE
     SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until`,
  );
  const nextEvents = database.prepare(
    `SELECT seq, id, room, at, body FROM webhook_events
     WHERE room = ?2 AND seq > COALESCE(
       (SELECT delivered FROM webhook_cursors WHERE receiver = ?1 AND room = ?2),
       0)
     ORDER BY seq LIMIT ?3`,
  );
  const markDelivered = database.prepare(
    `UPDATE webhook_cursors
     SET delivered = MAX(delivered, ?4), attempts = 0, due_at = 0,
       lease_until = ?5
     WHERE receiver = ?1 AND room = ?2 AND lease_owner = ?3`,
  );
  const markFailed = database.prepare(
    `UPDATE webhook_cursors
     SET attempts = attempts + 1, due_at = ?4, lease_owner = '',
       lease_until = 0
     WHERE receiver = ?1 AND room = ?2 AND lease_owner = ?3`,
  );
  const endLease = database.prepare(
    `UPDATE webhook_cursors SET lease_owner = '', lease_until = 0
     WHERE receiver = ?1 AND room = ?2 AND lease_owner = ?3`,
  );
  // Per room, the place of the receiver furthest behind: every event up to
  // it has reached every receiver.
  const everyoneHas = database.prepare(
    `SELECT w.room AS room, MIN(COALESCE(c.delivered, 0)) AS upto
     FROM webhook_rooms w JOIN json_each(?1) r
     LEFT JOIN webhook_cursors c ON c.receiver = r.value AND c.room = w.room
     GROUP BY w.room`,
  );
  const deleteUpTo = database.prepare(
    "DELETE FROM webhook_events WHERE room = ? AND seq <= ?",
  );
  const countEvents = database.prepare(
    `SELECT COUNT(*) AS n,
       (SELECT at FROM webhook_events ORDER BY seq LIMIT 1) AS oldest
     FROM webhook_events`,
  );
  const dropOldest = database.prepare(
    `DELETE FROM webhook_events WHERE seq <=
       (SELECT seq FROM webhook_events ORDER BY seq LIMIT 1 OFFSET ?)`,
  );
  // Events follow time in seq order: the old ones are those before the
  // first young one, found walking from the oldest.
  const dropOlderThan = database.prepare(
    `DELETE FROM webhook_events WHERE seq < COALESCE(
       (SELECT seq FROM webhook_events WHERE at >= ? ORDER BY seq LIMIT 1),
       9223372036854775807)`,
  );
  const forgetRooms = database.prepare(
    `DELETE FROM webhook_rooms WHERE NOT EXISTS
       (SELECT 1 FROM webhook_events e WHERE e.room = webhook_rooms.room)`,
  );
  const forgetCursors = database.prepare(
    `DELETE FROM webhook_cursors WHERE lease_until <= ?
     AND room NOT IN (SELECT room FROM webhook_rooms)`,
  );

  return {
    claim(receiver, owner, now, leaseMs, limit): Promise<OutboxClaim[]> {
      // A read first: most polls find nothing due, and take no write lock.
      if (dueRooms.all(receiver, now, 1).length === 0) {
        return Promise.resolve([]);
      }
      return Promise.resolve(database.transaction(() => {
        const claims = dueRooms.all(receiver, now, limit).map((row) => ({
          room: outboxRoomField(row, "room"),
          attempts: intField(row, "attempts"),
        }));
        for (const { room } of claims) {
          lease.run(receiver, room, owner, now + leaseMs);
        }
        return claims;
      }));
    },
    next(receiver, room, limit) {
      return Promise.resolve(
        nextEvents.all(receiver, room, limit).map(toEvent),
      );
    },
    delivered(receiver, room, owner, seq, leaseUntil) {
      return Promise.resolve(database.transaction(() =>
        Number(
          markDelivered.run(receiver, room, owner, seq, leaseUntil).changes,
        ) > 0
      ));
    },
    failed(receiver, room, owner, retryAt) {
      database.transaction(() =>
        markFailed.run(receiver, room, owner, retryAt)
      );
      return Promise.resolve();
    },
    release(receiver, room, owner) {
      database.transaction(() => endLease.run(receiver, room, owner));
      return Promise.resolve();
    },
    trim(receivers, { maxEvents, maxAgeMs, now }) {
      return Promise.resolve(database.transaction(() => {
        for (const row of everyoneHas.all(JSON.stringify(receivers))) {
          const upto = intField(row, "upto");
          if (upto > 0) deleteUpTo.run(textField(row, "room"), upto);
        }
        let dropped = Number(dropOlderThan.run(now - maxAgeMs).changes);
        const count = intField(countEvents.get() ?? {}, "n");
        if (count > maxEvents) {
          dropped += Number(dropOldest.run(count - maxEvents - 1).changes);
        }
        forgetRooms.run();
        forgetCursors.run(now);
        const left = countEvents.get() ?? {};
        const backlog: OutboxBacklog = {
          pending: intField(left, "n"),
          oldestAt: left.oldest === null ? undefined : intField(left, "oldest"),
        };
        return { dropped, backlog };
      }));
    },
    onWrite: (listener) => writer.onWrite(listener),
  };
}

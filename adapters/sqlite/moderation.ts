/**
 * The {@linkcode ModerationStore} in SQLite: `sanctions` holds each mute
 * and ban in force (its JSON in `body`, and the columns it is looked up
 * by), `sanction_addresses` the guest addresses each applies to, `audit`
 * the audit log (its `id` from AUTOINCREMENT, so increasing and never
 * reused; the newest {@linkcode AUDIT_LOG_MAX} kept). A sanction, its
 * audit entry and its webhook event are written in one transaction, as
 * are a delete's or a disconnect's audit entry and its event.
 *
 * @module
 */

import type { SqliteDatabase } from "./database.ts";
import { intField, type Row, textField } from "./rows.ts";
import type { OutboxWriter } from "./outbox.ts";
import type {
  AuditEntry,
  ModerationStore,
  NewAuditEntry,
  Sanction,
} from "../../chat/moderation_store.ts";
import {
  AUDIT_LOG_MAX,
  auditRecord,
  liftAudit,
  longest,
  parseAuditRecord,
  parseSanctionRecord,
  SANCTION_ADDRESSES_MAX,
  sanctionRecord,
  untilMs,
} from "../../chat/moderation_records.ts";
import { auditEvent, sanctionEvent } from "../../chat/webhook_events.ts";

/** Options for {@linkcode openSqliteModeration}. */
export interface SqliteModerationOptions {
  /** Where webhook events go; absent when webhooks are off. */
  readonly outbox?: OutboxWriter;
}

// The longest-lasting first: for good, then the latest end.
const LONGEST = "ORDER BY s.until_ms IS NULL DESC, s.until_ms DESC, s.rowid";

/** The moderation store of the open, migrated `database`. */
export function openSqliteModeration(
  database: SqliteDatabase,
  options: SqliteModerationOptions = {},
): ModerationStore {
  const outbox = options.outbox;
  const insertSanction = database.prepare(
    `INSERT INTO sanctions (id, kind, room, owner, at, until_ms, body)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertAddress = database.prepare(
    `INSERT OR IGNORE INTO sanction_addresses (address, id)
     SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM sanctions WHERE id = ?2)
       AND (SELECT COUNT(*) FROM sanction_addresses WHERE id = ?2) < ?3`,
  );
  const addressesOf = database.prepare(
    "SELECT address FROM sanction_addresses WHERE id = ? ORDER BY rowid",
  );
  const selectInForce = database.prepare(
    `SELECT id, body FROM sanctions
     WHERE id = ?1 AND (until_ms IS NULL OR until_ms > ?2)`,
  );
  const deleteSanction = database.prepare("DELETE FROM sanctions WHERE id = ?");
  const listAll = database.prepare(
    `SELECT id, body FROM sanctions
     WHERE (until_ms IS NULL OR until_ms > ?1) AND (?2 IS NULL OR kind = ?2)
       AND (?3 IS NULL OR room IS NULL OR room = ?3)
     ORDER BY at, rowid`,
  );
  const findByOwner = database.prepare(
    `SELECT s.id AS id, s.body AS body FROM sanctions s
     WHERE s.owner = ?1 AND s.kind = ?2 AND (s.room IS NULL OR s.room = ?3)
       AND (s.until_ms IS NULL OR s.until_ms > ?4)
     ${LONGEST} LIMIT 1`,
  );
  const findByAddress = database.prepare(
    `SELECT s.id AS id, s.body AS body FROM sanction_addresses a
     JOIN sanctions s ON s.id = a.id
     WHERE a.address = ?1 AND s.kind = ?2
       AND (s.room IS NULL OR s.room = ?3)
       AND (s.until_ms IS NULL OR s.until_ms > ?4)
     ${LONGEST} LIMIT 1`,
  );
  const purgeEnded = database.prepare(
    "DELETE FROM sanctions WHERE until_ms IS NOT NULL AND until_ms <= ?",
  );
  const insertAudit = database.prepare(
    "INSERT INTO audit (room, body) VALUES (?, ?)",
  );
  const trimAudit = database.prepare("DELETE FROM audit WHERE id <= ?");
  const auditPage = database.prepare(
    `SELECT id, body FROM audit
     WHERE (?1 IS NULL OR room = ?1) AND (?2 IS NULL OR id < ?2)
     ORDER BY id DESC LIMIT ?3`,
  );

  const toSanction = (row: Row): Sanction =>
    parseSanctionRecord(
      textField(row, "body"),
      addressesOf.all(textField(row, "id")).map((a) => textField(a, "address")),
    );

  /** Writes `entry` in the transaction that is open; returns it numbered. */
  const writeAudit = (entry: NewAuditEntry): AuditEntry => {
    const { lastInsertRowid } = insertAudit.run(entry.room, auditRecord(entry));
    const id = Number(lastInsertRowid);
    trimAudit.run(id - AUDIT_LOG_MAX);
    return { ...entry, id };
  };

  return {
    impose: (sanction, audit) =>
      settle(() => {
        const until = untilMs(sanction.until);
        database.transaction(() => {
          insertSanction.run(
            sanction.id,
            sanction.kind,
            sanction.room,
            sanction.target.owner ?? null,
            sanction.at,
            until,
            sanctionRecord(sanction),
          );
          for (
            const address of sanction.target.addresses.slice(
              0,
              SANCTION_ADDRESSES_MAX,
            )
          ) {
            insertAddress.run(address, sanction.id, SANCTION_ADDRESSES_MAX);
          }
          writeAudit(audit);
          outbox?.write([
            sanctionEvent(sanction, false, audit.actor, new Date(audit.at)),
          ]);
        });
      }),
    lift: (id, audit, now) =>
      settle(() =>
        database.transaction(() => {
          const row = selectInForce.get(id, now.getTime());
          if (!row) return undefined;
          const sanction = toSanction(row);
          deleteSanction.run(id);
          writeAudit(liftAudit(sanction, audit));
          outbox?.write([
            sanctionEvent(sanction, true, audit.actor, new Date(audit.at)),
          ]);
          return sanction;
        })
      ),
    addAddress: (id, address) =>
      settle(() => {
        database.transaction(() =>
          insertAddress.run(address, id, SANCTION_ADDRESSES_MAX)
        );
      }),
    list: (query, now) =>
      settle(() =>
        listAll.all(now.getTime(), query.kind ?? null, query.room ?? null)
          .map(toSanction)
      ),
    find: (kind, room, subject, now) =>
      settle(() => {
        const at = now.getTime();
        const candidates = [
          findByOwner.get(subject.owner, kind, room, at),
          subject.guest
            ? findByAddress.get(subject.address, kind, room, at)
            : undefined,
        ].filter((row): row is Row => row !== undefined).map(toSanction);
        return longest(candidates);
      }),
    audit: (entry) =>
      settle(() => {
        const event = outbox && auditEvent(entry);
        return database.transaction(() => {
          const written = writeAudit(entry);
          if (outbox && event) outbox.write([event]);
          return written;
        });
      }),
    auditLog: (query) =>
      settle(() =>
        auditPage.all(query.room ?? null, query.before ?? null, query.limit)
          .map((row) =>
            parseAuditRecord(textField(row, "body"), intField(row, "id"))
          )
      ),
    purge: (now) =>
      settle(() =>
        database.transaction(() =>
          Number(purgeEnded.run(now.getTime()).changes)
        )
      ),
  };
}

/** What `work` returns, or its error, as a promise. */
function settle<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()));
}

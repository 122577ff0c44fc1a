/**
 * The {@linkcode ModerationStore} in Redis (keys and scripts in
 * `moderation_scripts.ts`): each sanction is a key of its own, indexed by
 * its end in `mod:all` and under its owner and its guest addresses, so
 * that the check at each connection reads only the subject's own. A
 * sanction, its audit entry and its webhook event are written by one
 * script, as are a delete's or a disconnect's audit entry and its event.
 * Ended sanctions are forgotten by {@linkcode ModerationStore.purge}; as a
 * backstop, a sanction's keys expire by themselves
 * {@linkcode SANCTION_KEY_GRACE_MS} after it ends. The audit log keeps the
 * newest {@linkcode AUDIT_LOG_MAX} entries.
 *
 * @module
 */

import type { RedisConnection } from "./connection.ts";
import type { RedisOutboxWriter } from "./outbox.ts";
import {
  ADD_ADDRESS,
  AUDIT,
  AUDIT_PAGE,
  IMPOSE,
  LIFT,
  PURGE,
  READ,
  READ_ONE,
} from "./moderation_scripts.ts";
import type {
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
import {
  auditEvent,
  sanctionEvent,
  type WebhookPayload,
} from "../../chat/webhook_events.ts";
import { StoreError } from "../../chat/store.ts";

/**
 * How long after a sanction ends its keys stay, unless purged before: long
 * enough that clocks a little apart never lose one early.
 */
export const SANCTION_KEY_GRACE_MS = 24 * 60 * 60 * 1000;

/** Options for {@linkcode openRedisModeration}. */
export interface RedisModerationOptions {
  /** Every key starts with it (ends with `:`). */
  readonly prefix: string;
  /** Where webhook events go; absent when webhooks are off. */
  readonly outbox?: RedisOutboxWriter;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) &&
    value.every((item) => typeof item === "string");
}

/** A script's `{JSON, {addresses}, …}` as sanctions. */
function toSanctions(reply: unknown): Sanction[] {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) {
    throw new StoreError("Redis returned a bad list of sanctions");
  }
  const sanctions: Sanction[] = [];
  for (let index = 0; index < reply.length; index += 2) {
    const record: unknown = reply[index];
    const addresses: unknown = reply[index + 1];
    if (typeof record !== "string" || !isStringArray(addresses)) {
      throw new StoreError("Redis returned a bad sanction");
    }
    sanctions.push(parseSanctionRecord(record, addresses.sort()));
  }
  return sanctions;
}

/** The moderation store on `redis`. */
export function openRedisModeration(
  redis: RedisConnection,
  options: RedisModerationOptions,
): ModerationStore {
  const { prefix, outbox } = options;
  /**
   * A script's webhook arguments: context, type, data, room ('' for each
   * when webhooks are off or there is no event).
   */
  const eventArgs = (event: WebhookPayload | undefined) =>
    outbox && event
      ? [
        outbox.context(new Date(event.ts)),
        event.type,
        JSON.stringify(event.data),
        event.room,
      ]
      : ["", "", "", ""];
  const sanctionArgs = (
    sanction: Sanction,
    lifted: boolean,
    actor: string,
    at: string,
  ) =>
    eventArgs(
      outbox && sanctionEvent(sanction, lifted, actor, new Date(at)),
    );
  const auditArgs = (entry: NewAuditEntry) => [
    auditRecord(entry),
    entry.room ?? "",
    AUDIT_LOG_MAX,
  ];

  return {
    async impose(sanction, audit) {
      const until = untilMs(sanction.until);
      await IMPOSE.run(redis, [], [
        prefix,
        sanction.id,
        sanctionRecord(sanction),
        until === null ? "inf" : String(until),
        sanction.target.owner ?? "",
        SANCTION_KEY_GRACE_MS,
        ...auditArgs(audit),
        ...sanctionArgs(sanction, false, audit.actor, audit.at),
        ...new Set(sanction.target.addresses.slice(0, SANCTION_ADDRESSES_MAX)),
      ]);
      outbox?.wrote();
    },
    async lift(id, audit, now) {
      const [sanction] = toSanctions(
        await READ_ONE.run(redis, [], [prefix, id, now.getTime()]),
      );
      if (!sanction) return undefined;
      const lifted = await LIFT.run(redis, [], [
        prefix,
        id,
        now.getTime(),
        SANCTION_KEY_GRACE_MS,
        ...auditArgs(liftAudit(sanction, audit)),
        ...sanctionArgs(sanction, true, audit.actor, audit.at),
      ]);
      outbox?.wrote();
      return lifted === 1 ? sanction : undefined;
    },
    async addAddress(id, address) {
      await ADD_ADDRESS.run(redis, [], [
        prefix,
        id,
        address,
        SANCTION_ADDRESSES_MAX,
        SANCTION_KEY_GRACE_MS,
      ]);
    },
    async list(query, now) {
      const all = toSanctions(
        await READ.run(redis, [], [prefix, now.getTime(), "", ""]),
      );
      return all
        .filter((s) =>
          (query.kind === undefined || s.kind === query.kind) &&
          (query.room === undefined || s.room === null ||
            s.room === query.room)
        )
        .sort((a, b) =>
          Date.parse(a.at) - Date.parse(b.at) || (a.id < b.id ? -1 : 1)
        );
    },
    async find(kind, room, subject, now) {
      const candidates = toSanctions(
        await READ.run(redis, [], [
          prefix,
          now.getTime(),
          subject.owner,
          subject.guest ? subject.address : "",
        ]),
      );
      return longest(
        candidates.filter((s) =>
          s.kind === kind && (s.room === null || s.room === room) &&
          (s.target.owner === subject.owner ||
            (subject.guest && s.target.addresses.includes(subject.address)))
        ),
      );
    },
    async audit(entry) {
      const event = outbox && auditEvent(entry);
      const id = await AUDIT.run(redis, [], [
        prefix,
        ...auditArgs(entry),
        ...eventArgs(event),
      ]);
      if (outbox && event) outbox.wrote();
      if (typeof id !== "number") {
        throw new StoreError("Redis returned a bad audit id");
      }
      return { ...entry, id };
    },
    async auditLog(query) {
      const reply = await AUDIT_PAGE.run(redis, [], [
        prefix,
        query.room ?? "",
        query.before ?? "",
        query.limit,
      ]);
      if (!isStringArray(reply) || reply.length % 2 !== 0) {
        throw new StoreError("Redis returned a bad audit page");
      }
      const entries = [];
      for (let index = 0; index + 1 < reply.length; index += 2) {
        entries.push(
          parseAuditRecord(reply[index + 1] ?? "", Number(reply[index])),
        );
      }
      return entries;
    },
    async purge(now) {
      const count = await PURGE.run(redis, [], [
        prefix,
        now.getTime(),
        SANCTION_KEY_GRACE_MS,
      ]);
      if (typeof count !== "number") {
        throw new StoreError("Redis returned a bad purge count");
      }
      return count;
    },
  };
}

/**
 * Sanctions and audit entries as the stores keep them: JSON text, read
 * back field by field (a field that does not hold what it should is a
 * {@linkcode StoreError}), and the bounds every store applies.
 *
 * @module
 */

import { isRecord, parseJson } from "./json.ts";
import type {
  AuditAction,
  AuditEntry,
  NewAuditEntry,
  Sanction,
  SanctionKind,
} from "./moderation_store.ts";
import { parseRoomName, type RoomName } from "./room_name.ts";
import { StoreError } from "./store.ts";

/**
 * Audit entries a store keeps: past it, the oldest go as new ones come, so
 * the log cannot outgrow the store.
 */
export const AUDIT_LOG_MAX = 10_000;

/**
 * Guest addresses one sanction holds: a guest seen from more addresses than
 * this is matched by the ones first seen (and by its owner).
 */
export const SANCTION_ADDRESSES_MAX = 32;

const KINDS: readonly SanctionKind[] = ["mute", "ban"];
const ACTIONS: readonly AuditAction[] = [
  "delete",
  "mute",
  "unmute",
  "ban",
  "unban",
  "disconnect",
];

/** `sanction` as stored, without its addresses (they are kept apart). */
export function sanctionRecord(sanction: Sanction): string {
  const { target, ...rest } = sanction;
  return JSON.stringify({
    ...rest,
    target: {
      user: target.user,
      ...(target.owner === undefined ? {} : { owner: target.owner }),
    },
  });
}

/** Reads a stored sanction back, with the addresses kept apart. */
export function parseSanctionRecord(
  text: string,
  addresses: readonly string[],
): Sanction {
  const record = parseRecord(text, "sanction");
  const target = record.target;
  if (!isRecord(target)) throw corrupt("sanction", "target");
  const owner = target.owner;
  if (owner !== undefined && typeof owner !== "string") {
    throw corrupt("sanction", "target.owner");
  }
  const kind = KINDS.find((k) => k === record.kind);
  if (kind === undefined) throw corrupt("sanction", "kind");
  return {
    id: textOf(record, "id", "sanction"),
    kind,
    room: roomOrNull(record.room, "sanction"),
    target: {
      user: textOf(target, "user", "sanction"),
      ...(owner === undefined ? {} : { owner }),
      addresses: [...addresses],
    },
    reason: textOf(record, "reason", "sanction"),
    by: textOf(record, "by", "sanction"),
    at: textOf(record, "at", "sanction"),
    until: textOrNull(record.until, "until", "sanction"),
  };
}

/** `entry` as stored. */
export function auditRecord(entry: NewAuditEntry): string {
  return JSON.stringify(entry);
}

/** Reads a stored audit entry back under its `id`. */
export function parseAuditRecord(text: string, id: number): AuditEntry {
  const record = parseRecord(text, "audit entry");
  const action = ACTIONS.find((a) => a === record.action);
  if (action === undefined) throw corrupt("audit entry", "action");
  const optionalText = (key: string) => {
    const value = record[key];
    if (value === undefined) return {};
    if (typeof value !== "string") throw corrupt("audit entry", key);
    return { [key]: value };
  };
  const messageId = record.messageId;
  if (messageId !== undefined && !Number.isSafeInteger(messageId)) {
    throw corrupt("audit entry", "messageId");
  }
  return {
    id,
    at: textOf(record, "at", "audit entry"),
    actor: textOf(record, "actor", "audit entry"),
    action,
    room: roomOrNull(record.room, "audit entry"),
    ...optionalText("user"),
    ...(typeof messageId === "number" ? { messageId } : {}),
    ...optionalText("sanctionId"),
    ...optionalText("reason"),
    ...(record.until === undefined
      ? {}
      : { until: textOrNull(record.until, "until", "audit entry") }),
  };
}

/** The audit entry of lifting `sanction`, from what the caller gave. */
export function liftAudit(
  sanction: Sanction,
  audit: Omit<NewAuditEntry, "room" | "user" | "sanctionId">,
): NewAuditEntry {
  return {
    ...audit,
    room: sanction.room,
    user: sanction.target.user,
    sanctionId: sanction.id,
  };
}

/** Milliseconds since the epoch of an ISO `until`, or null for never. */
export function untilMs(until: string | null): number | null {
  if (until === null) return null;
  const ms = Date.parse(until);
  if (Number.isNaN(ms)) {
    throw new StoreError(
      `Cannot store a sanction until "${until}": not a date`,
      {
        kind: "other",
      },
    );
  }
  return ms;
}

function parseRecord(text: string, what: string): Record<string, unknown> {
  const parsed = parseJson(text);
  if (!parsed.ok || !isRecord(parsed.value)) {
    throw new StoreError(`A stored ${what} is not a JSON object`);
  }
  return parsed.value;
}

function corrupt(what: string, key: string): StoreError {
  return new StoreError(`A stored ${what} has no valid ${key}`);
}

function textOf(record: Record<string, unknown>, key: string, what: string) {
  const value = record[key];
  if (typeof value === "string") return value;
  throw corrupt(what, key);
}

function textOrNull(value: unknown, key: string, what: string) {
  if (value === null || typeof value === "string") return value;
  throw corrupt(what, key);
}

function roomOrNull(value: unknown, what: string): RoomName | null {
  if (value === null) return null;
  if (typeof value !== "string") throw corrupt(what, "room");
  const parsed = parseRoomName(value);
  if (!parsed.ok) throw corrupt(what, "room");
  return parsed.name;
}

/** The sanction of `candidates` that lasts longest (for good first). */
export function longest(
  candidates: readonly Sanction[],
): Sanction | undefined {
  let best: Sanction | undefined;
  for (const candidate of candidates) {
    if (best === undefined || endsAfter(candidate, best)) best = candidate;
  }
  return best;
}

function endsAfter(a: Sanction, b: Sanction): boolean {
  if (b.until === null) return false;
  if (a.until === null) return true;
  return Date.parse(a.until) > Date.parse(b.until);
}

/**
 * What moderation tells the other isolates and processes over the bus (a
 * sanction imposed or widened, one lifted, whose a name is) on a control
 * channel every hub subscribes to, the parser that reads it back as
 * untrusted input, the one rule of who a sanction applies to, and what a
 * muted or banned user is told.
 *
 * @module
 */

import { isRecord, parseJson } from "./json.ts";
import type { Sanction, SanctionSubject } from "./moderation_store.ts";
import { parseSanctionRecord } from "./moderation_records.ts";
import { StoreError } from "./store.ts";
import { parseRoomName, type RoomName } from "./room_name.ts";

/**
 * The bus channel of moderation events: not a valid room name (`~` is not
 * allowed in one), so no room's traffic can mix with it.
 */
// The brand marks a channel name; this constant is not parsed input.
export const MODERATION_CHANNEL = "~moderation" as RoomName;

/** A moderation event on the bus. */
export type ModerationEvent =
  | { readonly type: "sanction"; readonly sanction: Sanction }
  | { readonly type: "lifted"; readonly id: string }
  /** Asks the isolate holding `user` in `room` whose it is. */
  | {
    readonly type: "whois";
    readonly ask: string;
    /** `null`: any room. */
    readonly room: RoomName | null;
    readonly user: string;
  }
  /** Answers a `whois`. */
  | {
    readonly type: "owner";
    readonly ask: string;
    readonly owner: string;
    readonly guest: boolean;
    readonly address: string;
  };

/** Whether `sanction` is in force at `now` in `room` for `subject`. */
export function applies(
  sanction: Sanction,
  room: RoomName,
  subject: SanctionSubject,
  now: Date,
): boolean {
  if (sanction.room !== null && sanction.room !== room) return false;
  if (sanction.until !== null && Date.parse(sanction.until) <= now.getTime()) {
    return false;
  }
  const { owner, addresses } = sanction.target;
  return owner === subject.owner ||
    (subject.guest && addresses.includes(subject.address));
}

/** "until <ISO>" or "for good", as the refusals say it. */
export function untilText(until: string | null): string {
  return until === null ? "for good" : `until ${until}`;
}

/** `text`, then `: reason` when there is one. */
export function withReason(text: string, reason: string): string {
  return reason === "" ? text : `${text}: ${reason}`;
}

/** Reads a sanction from the bus; undefined for anything malformed. */
function parseSanction(value: unknown): Sanction | undefined {
  if (!isRecord(value) || !isRecord(value.target)) return undefined;
  const { addresses } = value.target;
  if (
    !Array.isArray(addresses) ||
    !addresses.every((item) => typeof item === "string")
  ) return undefined;
  try {
    return parseSanctionRecord(JSON.stringify(value), addresses);
  } catch (error) {
    if (error instanceof StoreError) return undefined;
    throw error;
  }
}

/** Parses text from the moderation channel; undefined when malformed. */
export function parseModerationEvent(
  data: unknown,
): ModerationEvent | undefined {
  if (typeof data !== "string") return undefined;
  const parsed = parseJson(data);
  if (!parsed.ok || !isRecord(parsed.value)) return undefined;
  const value = parsed.value;
  if (value.type === "lifted" && typeof value.id === "string") {
    return { type: "lifted", id: value.id };
  }
  const { ask } = value;
  if (value.type === "whois") {
    const room = typeof value.room === "string"
      ? parseRoomName(value.room)
      : undefined;
    if (
      typeof ask !== "string" || typeof value.user !== "string" ||
      (value.room !== null && !room?.ok)
    ) return undefined;
    return {
      type: "whois",
      ask,
      room: room?.ok ? room.name : null,
      user: value.user,
    };
  }
  if (value.type === "owner") {
    const { owner, guest, address } = value;
    if (
      typeof ask !== "string" || typeof owner !== "string" ||
      typeof guest !== "boolean" || typeof address !== "string"
    ) return undefined;
    return { type: "owner", ask, owner, guest, address };
  }
  if (value.type !== "sanction") return undefined;
  const sanction = parseSanction(value.sanction);
  return sanction && { type: "sanction", sanction };
}
/** The longest close reason a WebSocket carries, in UTF-8 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

/** `text` cut to at most `bytes` UTF-8 bytes, on a character boundary. */
function truncateBytes(text: string, bytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).byteLength <= bytes) return text;
  let out = "";
  let used = 0;
  for (const char of text) {
    const size = encoder.encode(char).byteLength;
    if (used + size > bytes) break;
    out += char;
    used += size;
  }
  return out;
}

/** The close reason of a banned socket. */
export function banCloseReason(sanction: Sanction): string {
  const until = sanction.until === null
    ? "Banned for good"
    : `Banned until ${sanction.until}`;
  return truncateBytes(
    withReason(until, sanction.reason),
    MAX_CLOSE_REASON_BYTES,
  );
}

/** The refusal text of a muted sender. */
export function mutedText(sanction: Sanction): string {
  return withReason(
    `You are muted in this room ${untilText(sanction.until)}`,
    sanction.reason,
  );
}

/** The refusal text of a banned subject at the upgrade. */
export function bannedText(sanction: Sanction): string {
  return withReason(
    `You are banned from this room ${untilText(sanction.until)}`,
    sanction.reason,
  );
}

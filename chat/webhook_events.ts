/**
 * The events the server tells the site's backend about (webhooks), as the
 * core sees them: their types, their JSON payloads, and the outbox the
 * store keeps them in until every receiver has them. A store writes an
 * event in the same transaction as what caused it (a message stored, a
 * name gone online), so a crash never loses one; `adapters/webhooks/`
 * sends them. No I/O here.
 *
 * @module
 */

import { type ChatMessage } from "./store.ts";
import type { Reaction } from "./conversation_store.ts";
import { type MessageFrame, messageFrame } from "./frames.ts";
import type { RoomName } from "./room_name.ts";
import { EVERY_ROOM, type OutboxRoom } from "./outbox.ts";
import { isSignedOwner, signedSub } from "./user_name.ts";
import type { NewAuditEntry, Sanction } from "./moderation_store.ts";

/** What an event reports. */
export type WebhookEventType =
  | "message.created"
  | "message.deleted"
  | "message.edited"
  | "message.reactions"
  | "member.joined"
  | "member.left"
  | "member.renamed"
  | "room.created"
  | "moderation.muted"
  | "moderation.unmuted"
  | "moderation.banned"
  | "moderation.unbanned"
  | "moderation.deleted"
  | "moderation.disconnected";

/** A name in a room, as an event shows it: never a token or a key. */
export interface MemberData {
  readonly name: string;
  /** The name is held by a signed identity. */
  readonly verified: boolean;
  /** The signed identity's `sub`, when it is one. */
  readonly sub?: string;
}

/** A rename: the new name, and the one it replaced. */
export interface RenamedData extends MemberData {
  readonly from: string;
}

/**
 * Who changed a message, as a message frame names its sender (`user`,
 * `verified`) with the signed identity's `sub`, as member events do.
 */
export interface ActorData {
  /** The name they go by now. */
  readonly user: string;
  /** The name is held by a signed identity. */
  readonly verified: boolean;
  /** The signed identity's `sub`, when it is one. */
  readonly sub?: string;
}

/** An edit by the message's owner: its new text and when. */
export interface EditedData extends ActorData {
  readonly id: number;
  readonly message: string;
  /** When it was edited, ISO-8601 in UTC (the `edited` of history). */
  readonly edited: string;
}

/** A reaction toggled: which, by whom, and the message's whole state after. */
export interface ReactionsData extends ActorData {
  readonly id: number;
  readonly emoji: string;
  /** True when the reaction was added, false when taken back. */
  readonly added: boolean;
  /** Every reaction the message carries now (as the `reactions` frame's). */
  readonly reactions: readonly Reaction[];
}

/**
 * A mute or a ban as an event shows it: whom by name (and `sub` when signed),
 * never the key hash or the addresses; `actor` did what the event reports.
 */
export interface SanctionData extends Omit<Sanction, "target"> {
  readonly target: { readonly user: string; readonly sub?: string };
  readonly actor: string;
}

/** A message a moderator or the server API deleted: which, by whom, why. */
export interface ModerationDeletedData {
  /** The message's id. */
  readonly id: number;
  readonly actor: string;
  /** Why, when the moderator said. */
  readonly reason?: string;
}

/** A user whose connections a moderator or the server API closed. */
export interface ModerationDisconnectedData {
  /** The name whose connections were closed. */
  readonly user: string;
  readonly actor: string;
}

/** The data of each type of event. */
export interface WebhookEventData {
  readonly "message.created": MessageFrame;
  readonly "message.deleted": { readonly id: number };
  readonly "message.edited": EditedData;
  readonly "message.reactions": ReactionsData;
  readonly "member.joined": MemberData;
  readonly "member.left": MemberData;
  readonly "member.renamed": RenamedData;
  /** The room's first message. */
  readonly "room.created": MessageFrame;
  readonly "moderation.muted": SanctionData;
  readonly "moderation.unmuted": SanctionData;
  readonly "moderation.banned": SanctionData;
  readonly "moderation.unbanned": SanctionData;
  readonly "moderation.deleted": ModerationDeletedData;
  readonly "moderation.disconnected": ModerationDisconnectedData;
}

/** One event's payload, the JSON body a receiver gets. */
export interface WebhookPayload<
  T extends WebhookEventType = WebhookEventType,
> {
  readonly type: T;
  /** `evt_…`, the same on every attempt (the `webhook-id` header). */
  readonly id: string;
  /** The room, or `*` for a sanction of every room. */
  readonly room: OutboxRoom;
  /** When the event happened, ISO-8601 in UTC. */
  readonly ts: string;
  readonly data: WebhookEventData[T];
}

/** A new event id: `evt_` and 32 hex digits. */
export function newEventId(): string {
  return `evt_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** Builds the payload of one event, with a new id. */
export function webhookPayload<T extends WebhookEventType>(
  type: T,
  room: OutboxRoom,
  data: WebhookEventData[T],
  at: Date,
): WebhookPayload<T> {
  return { type, id: newEventId(), room, ts: at.toISOString(), data };
}

/** The member data of `name` held by `owner` (see `nameOwner`). */
export function memberData(name: string, owner: string): MemberData {
  return isSignedOwner(owner)
    ? { name, verified: true, sub: owner.slice("signed:".length) }
    : { name, verified: false };
}

/** `user` as an event names who did something, held by `owner`. */
export function actorData(user: string, owner: string): ActorData {
  const sub = signedSub(owner);
  return sub === undefined
    ? { user, verified: false }
    : { user, verified: true, sub };
}

/**
 * The events of a message just stored: `room.created` first when it is the
 * first message the room ever had (its id is 1), then `message.created`.
 */
export function messageEvents(
  message: ChatMessage,
  at: Date,
): WebhookPayload[] {
  const frame = messageFrame(message);
  const created = webhookPayload("message.created", message.room, frame, at);
  return message.id === 1
    ? [webhookPayload("room.created", message.room, frame, at), created]
    : [created];
}

/**
 * The event a rename makes once the store knows both halves: whether the
 * new name came online with it (`joined`) and the old one went (`left`).
 */
export function renameEvent(
  room: RoomName,
  change: { from: string; to: string; owner: string },
  outcome: { joined: boolean; left: boolean },
  at: Date,
): WebhookPayload | undefined {
  const { from, to, owner } = change;
  if (outcome.joined && outcome.left) {
    return webhookPayload("member.renamed", room, {
      ...memberData(to, owner),
      from,
    }, at);
  }
  if (outcome.joined) {
    return webhookPayload("member.joined", room, memberData(to, owner), at);
  }
  if (outcome.left) {
    return webhookPayload("member.left", room, memberData(from, owner), at);
  }
  return undefined;
}

/**
 * The event of imposing (`lifted` false) or lifting `sanction`; one of
 * every room is reported under {@linkcode EVERY_ROOM}.
 */
export function sanctionEvent(
  sanction: Sanction,
  lifted: boolean,
  actor: string,
  at: Date,
): WebhookPayload {
  const { target, ...rest } = sanction;
  const sub = target.owner === undefined ? undefined : signedSub(target.owner);
  const data: SanctionData = {
    ...rest,
    target: { user: target.user, ...(sub === undefined ? {} : { sub }) },
    actor,
  };
  const type = sanction.kind === "mute"
    ? (lifted ? "moderation.unmuted" : "moderation.muted")
    : (lifted ? "moderation.unbanned" : "moderation.banned");
  return webhookPayload(type, sanction.room ?? EVERY_ROOM, data, at);
}

/** `value`, which an audit entry must name for its `event`; throws a `TypeError` when it names none. */
function named<T>(value: T | undefined, event: string, what: string): T {
  if (value === undefined) {
    throw new TypeError(
      `Cannot write the ${event} event: the audit entry names no ${what}`,
    );
  }
  return value;
}

/**
 * The event of an audited action that is not a sanction: a delete
 * (`moderation.deleted`) or a disconnect (`moderation.disconnected`) by
 * `entry.actor`, at `entry.at`, under the entry's room ({@linkcode EVERY_ROOM}
 * when it has none). Undefined for the sanction actions, whose events
 * {@linkcode sanctionEvent} makes. Throws a `TypeError` for a delete that
 * names no message or a disconnect that names no user.
 */
export function auditEvent(entry: NewAuditEntry): WebhookPayload | undefined {
  const { actor, action } = entry;
  const room = entry.room ?? EVERY_ROOM;
  const at = new Date(entry.at);
  if (action === "delete") {
    return webhookPayload("moderation.deleted", room, {
      id: named(entry.messageId, "moderation.deleted", "message"),
      actor,
      ...(entry.reason === undefined ? {} : { reason: entry.reason }),
    }, at);
  }
  if (action === "disconnect") {
    return webhookPayload("moderation.disconnected", room, {
      user: named(entry.user, "moderation.disconnected", "user"),
      actor,
    }, at);
  }
  return undefined;
}

/**
 * Moderation as the store keeps it: the mutes and bans in force (each with
 * whom it applies to, where, until when and why) and the audit log of every
 * moderation action. The SQLite and Redis adapters implement
 * {@linkcode ModerationStore}, so a mute or a ban holds over every isolate,
 * worker and process and across restarts, and ends by itself at `until`.
 *
 * @module
 */

import type { RoomName } from "./room_name.ts";

/**
 * The most entries one page of the audit log holds, and the most mutes (and
 * bans) one moderator's `sanctions` frame lists.
 */
export const MAX_AUDIT_PAGE = 200;

/** What a sanction does: `mute` refuses what a user sends, `ban` keeps them out. */
export type SanctionKind = "mute" | "ban";

/**
 * Whom a sanction applies to. A connection matches when its owner is
 * `owner` (`signed:<sub>` or `key:<hash>`, see `nameOwner`), or, for a
 * guest (no signed identity), when its address is one of `addresses`.
 */
export interface SanctionTarget {
  /** The display name it was imposed on, for people; not matched. */
  readonly user: string;
  /** The owner it applies to, when known. */
  readonly owner?: string;
  /** Guest addresses it applies to (added as banned guests are seen). */
  readonly addresses: readonly string[];
}

/** A mute or a ban. */
export interface Sanction {
  /** Random and unique (`mute_…` or `ban_…`). */
  readonly id: string;
  readonly kind: SanctionKind;
  /** The room it applies to; `null`: every room. */
  readonly room: RoomName | null;
  readonly target: SanctionTarget;
  /** Why, as the moderator wrote it ("" when they did not). */
  readonly reason: string;
  /** Who imposed it: `api` for the API key, else the moderator's name. */
  readonly by: string;
  /** When, ISO-8601 in UTC. */
  readonly at: string;
  /** When it ends, ISO-8601 in UTC; `null`: never. */
  readonly until: string | null;
}

/** What a moderation action was. */
export type AuditAction =
  | "delete"
  | "mute"
  | "unmute"
  | "ban"
  | "unban"
  | "disconnect";

/** One audit entry before the store numbers it. */
export interface NewAuditEntry {
  /** When, ISO-8601 in UTC. */
  readonly at: string;
  /** Who: `api`, or the moderator's or administrator's name and sub. */
  readonly actor: string;
  readonly action: AuditAction;
  /** The room; `null` for an action on every room. */
  readonly room: RoomName | null;
  /** Whom (a display name), for actions on a user. */
  readonly user?: string;
  /** Which message, for a delete. */
  readonly messageId?: number;
  /** The sanction, for mute, unmute, ban and unban. */
  readonly sanctionId?: string;
  readonly reason?: string;
  /** Until when, for mute and ban (`null`: for good). */
  readonly until?: string | null;
}

/** A stored audit entry: `id` increases with every entry. */
export interface AuditEntry extends NewAuditEntry {
  readonly id: number;
}

/** Which audit entries to read, newest first. */
export interface AuditQuery {
  /** Only this room's (and, with it, none of every room's). */
  readonly room?: RoomName;
  /** Only entries with an id below this one (the next page). */
  readonly before?: number;
  readonly limit: number;
}

/** Which sanctions in force to list. */
export interface SanctionQuery {
  readonly kind?: SanctionKind;
  /** Those of this room, and those of every room; absent: all. */
  readonly room?: RoomName;
}

/** Who is asking to connect or to send, for {@linkcode ModerationStore.find}. */
export interface SanctionSubject {
  readonly owner: string;
  /** The client's address. */
  readonly address: string;
  /** Whether the owner is a guest's (addresses match only guests). */
  readonly guest: boolean;
}

/** Mutes, bans and the audit log, over every isolate and process. */
export interface ModerationStore {
  /**
   * Stores `sanction` and its audit entry (and its webhook event, when
   * webhooks are on) in one transaction.
   */
  impose(sanction: Sanction, audit: NewAuditEntry): Promise<void>;
  /**
   * Ends the sanction `id` now and audits it; resolves what it was, or
   * undefined when none by that id is in force (nothing is audited then).
   */
  lift(
    id: string,
    audit: Omit<NewAuditEntry, "room" | "user" | "sanctionId">,
    now: Date,
  ): Promise<Sanction | undefined>;
  /** Extends a guest sanction to another address it was seen from. */
  addAddress(id: string, address: string): Promise<void>;
  /** The sanctions in force at `now` that `query` selects, oldest first. */
  list(query: SanctionQuery, now: Date): Promise<Sanction[]>;
  /**
   * The sanction of `kind` in force at `now` in `room` (or in every room)
   * that applies to `subject`, the longest-lasting when several do.
   */
  find(
    kind: SanctionKind,
    room: RoomName,
    subject: SanctionSubject,
    now: Date,
  ): Promise<Sanction | undefined>;
  /**
   * Stores an audit entry of an action that is not a sanction, and, when
   * webhooks are on, its webhook event (`auditEvent`: a delete's or a
   * disconnect's) in one transaction.
   */
  audit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Audit entries, newest first. */
  auditLog(query: AuditQuery): Promise<AuditEntry[]>;
  /** Forgets sanctions that ended before `now`; returns how many. */
  purge(now: Date): Promise<number>;
}

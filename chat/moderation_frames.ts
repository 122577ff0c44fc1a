/**
 * The frames of moderation on the socket (typed clients only; see
 * docs/protocol.md): what a moderator sends (mute, ban, unmute, unban, and
 * the list of the room's mutes and bans), what the server answers it, and what a muted member and a moderator are
 * told. Their parser is here too; `client_frames.ts` calls it.
 *
 * @module
 */

import { MAX_USER_NAME_CHARS } from "./user_name.ts";
import type { RoomName } from "./room_name.ts";
import type { SanctionView } from "./sanction_view.ts";

/** The longest reason a moderator may give, in Unicode code points. */
export const MAX_REASON_CHARS = 500;

/** The longest sanction short of "for good": ten years, in seconds. */
export const MAX_SANCTION_SECONDS = 10 * 365 * 24 * 3600;

/**
 * A moderator mutes or bans `user` (online in the room) from this room,
 * or, for a ban by a moderator of every room, from every room.
 */
export interface SanctionRequestFrame {
  readonly type: "mute" | "ban";
  readonly user: string;
  /** In seconds; `null`: for good. */
  readonly duration: number | null;
  readonly reason: string;
  /** A ban from every room, not only this one. */
  readonly everywhere: boolean;
}

/** A moderator lifts `user`'s mute or ban in this room. */
export interface LiftRequestFrame {
  readonly type: "unmute" | "unban";
  readonly user: string;
  /** Lifts `user`'s ban from every room rather than this room's. */
  readonly everywhere: boolean;
}

/** A moderator asks for the mutes and bans in force in this room. */
export interface SanctionsRequestFrame {
  readonly type: "sanctions";
}

/** A client frame of a moderator. */
export type ModerationRequest =
  | SanctionRequestFrame
  | LiftRequestFrame
  | SanctionsRequestFrame;

/** A moderator's frame that acts on a user. */
export type ModerationAction = SanctionRequestFrame | LiftRequestFrame;

/** The receiver is muted in `room` until `until` (`null`: for good). */
export interface MutedFrame {
  readonly type: "muted";
  readonly room: RoomName;
  readonly until: string | null;
  readonly reason: string;
}

/** The receiver's mute in `room` was lifted. */
export interface UnmutedFrame {
  readonly type: "unmuted";
  readonly room: RoomName;
}

/** The receiver moderates this room: the page shows its tools. */
export interface RoleFrame {
  readonly type: "role";
  readonly role: "moderator";
  /** It moderates every room (its token's `role`), so it may ban from all. */
  readonly everywhere: boolean;
}

/** The moderator's own action went through. */
export interface ModeratedFrame {
  readonly type: "moderated";
  readonly action: ModerationAction["type"];
  readonly user: string;
  /** For mute and ban: until when (`null`: for good). */
  readonly until?: string | null;
  readonly reason?: string;
  /** A ban of every room. */
  readonly everywhere?: true;
}

/** A sanction in a `sanctions` frame: never a guest's address or key. */
export interface ListedSanction extends Omit<SanctionView, "target"> {
  readonly target: { readonly user: string; readonly sub?: string };
  /** A ban from every room (`room` is `null`), which applies here too. */
  readonly everywhere?: true;
}

/**
 * The answer to a moderator's `sanctions`: the mutes and bans in force in
 * this room (bans from every room included), each list oldest first and at
 * most its newest `MAX_AUDIT_PAGE`; `more` when some were left out.
 */
export interface SanctionsFrame {
  readonly type: "sanctions";
  readonly mutes: readonly ListedSanction[];
  readonly bans: readonly ListedSanction[];
  readonly more?: true;
}

/** A server frame about moderation, sent to typed clients only. */
export type ModerationFrame =
  | MutedFrame
  | UnmutedFrame
  | RoleFrame
  | ModeratedFrame
  | SanctionsFrame;

/** Whether `type` names a moderator's frame. */
export function isModerationType(
  type: unknown,
): type is ModerationRequest["type"] {
  return type === "mute" || type === "ban" || type === "unmute" ||
    type === "unban" || type === "sanctions";
}

/** A moderator frame, or why not (the error frame's code and text). */
export type ParsedModeration =
  | { readonly ok: true; readonly frame: ModerationRequest }
  | {
    readonly ok: false;
    readonly code: "bad_frame" | "bad_duration";
    readonly error: string;
  };

function refuse(
  code: "bad_frame" | "bad_duration",
  error: string,
): ParsedModeration {
  return { ok: false, code, error };
}

/** Checks a moderator frame's fields (`type` already one of its five). */
export function parseModerationFrame(
  value: Record<string, unknown>,
  type: ModerationRequest["type"],
): ParsedModeration {
  // A list takes nothing; fields it does not know are ignored, as elsewhere.
  if (type === "sanctions") return { ok: true, frame: { type } };
  const { user } = value;
  if (
    typeof user !== "string" || user === "" || !user.isWellFormed() ||
    [...user].length > MAX_USER_NAME_CHARS
  ) {
    return refuse(
      "bad_frame",
      `A ${type} frame needs the "user" it is about (a name online here)`,
    );
  }
  const { everywhere = false } = value;
  if (
    typeof everywhere !== "boolean" ||
    (everywhere && type !== "ban" && type !== "unban")
  ) {
    return refuse(
      "bad_frame",
      `"everywhere" is true or false, and only a ban or an unban may be for every room`,
    );
  }
  if (type === "unmute" || type === "unban") {
    return { ok: true, frame: { type, user, everywhere } };
  }
  const { duration, reason = "" } = value;
  if (
    duration !== null &&
    !(typeof duration === "number" && Number.isSafeInteger(duration) &&
      duration > 0 && duration <= MAX_SANCTION_SECONDS)
  ) {
    return refuse(
      "bad_duration",
      `A ${type}'s "duration" is a whole number of seconds from 1 to ${MAX_SANCTION_SECONDS}, or null for good`,
    );
  }
  if (
    typeof reason !== "string" || !reason.isWellFormed() ||
    [...reason].length > MAX_REASON_CHARS
  ) {
    return refuse(
      "bad_frame",
      `A ${type}'s "reason" is text of at most ${MAX_REASON_CHARS} characters`,
    );
  }
  return { ok: true, frame: { type, user, duration, reason, everywhere } };
}

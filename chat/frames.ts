/**
 * The wire format: frames a client may send, frames the server sends, and
 * how each wire format serialises them. The parsers that turn untrusted
 * text into typed values are `client_frames.ts` (from a socket or the API)
 * and `bus_events.ts` (from the fan-out bus). See docs/protocol.md for the
 * frame-by-frame description.
 *
 * @module
 */

import type { UserNameProblem } from "./user_name.ts";
import type { RoomName } from "./room_name.ts";
import type { ChatMessage, PresentUser } from "./store.ts";
import { CHAT_PROTOCOL } from "../client/protocol.js";
import type {
  ConversationFrame,
  ConversationRequest,
} from "./conversation_frames.ts";
import type {
  ModerationFrame,
  ModerationRequest,
} from "./moderation_frames.ts";

/** A chat message sent by a client. */
export interface SendMessageFrame {
  readonly type: "message";
  readonly message: string;
  /**
   * The client's own id for the message: a resend with the same `cid` (say,
   * after a reconnect) is stored once. 1 to 64 letters, digits, `-`, `_`.
   */
  readonly cid?: string;
}

/**
 * A client takes another name in the room. Everyone sees one `rename`, not
 * a leave and a join. The name is checked as `?name=` is (chat/user_name.ts);
 * a signed user's name is the token's and cannot be changed.
 */
export interface RenameRequestFrame {
  readonly type: "rename";
  readonly name: string;
}

/** Every frame a client may send (a discriminated union on `type`). */
export type ClientFrame =
  | SendMessageFrame
  | RenameRequestFrame
  | ConversationRequest
  | ModerationRequest;

/** A chat message as every member of the room receives it. */
export interface MessageFrame extends Omit<ChatMessage, "author"> {
  readonly type: "message";
  /**
   * The sender's name is vouched for: a signed identity, or the site's own
   * backend. False for a guest, whose name anyone could have chosen.
   */
  readonly verified: boolean;
  /** Sent by the site's backend through the server API. */
  readonly server?: true;
}

/** A message was deleted through the server API: remove it from the log. */
export interface DeleteFrame {
  readonly type: "delete";
  readonly room: RoomName;
  readonly id: number;
}

/** The room's recent past, sent first on every connection. */
export interface HistoryFrame {
  readonly type: "history";
  /** Oldest first. */
  readonly messages: readonly MessageFrame[];
  /** True when `messages` is exactly what followed the client's `since`. */
  readonly recovered: boolean;
  /**
   * The epoch of the room's log, which the client sends back with
   * `since` (`?epoch=`); absent while the log has none.
   */
  readonly epoch?: string;
}

/** Who is online, sent to a new connection after its history. */
export interface PresenceFrame {
  readonly type: "presence";
  /** The first names in name order, at most CHAT_PRESENCE_LIST_MAX. */
  readonly users: readonly PresentUser[];
  /** How many names are online in all (the API pages through the rest). */
  readonly count: number;
  /** The name this connection goes by (generated when none was given). */
  readonly you: string;
}

/** A name's first connection to the room opened. */
export interface JoinFrame {
  readonly type: "join";
  readonly user: string;
  /** The name is held by a signed identity, as in the presence list. */
  readonly verified: boolean;
}

/** A name's last connection to the room closed. */
export interface LeaveFrame {
  readonly type: "leave";
  readonly user: string;
}

/** Someone online took another name (a guest's `rename` frame). */
export interface RenameFrame {
  readonly type: "rename";
  readonly from: string;
  readonly to: string;
  readonly verified: boolean;
}

/** One change to a room's presence list. */
export type PresenceChangeFrame = JoinFrame | LeaveFrame | RenameFrame;

/** A rename as listed in a {@linkcode PresenceBatchFrame}. */
export interface Renamed {
  readonly from: string;
  readonly to: string;
}

/** Several presence changes of one short window, in one frame. */
export interface PresenceBatchFrame {
  readonly type: "presence_change";
  readonly joined: readonly string[];
  readonly left: readonly string[];
  /** The names in `joined` held by signed identities. */
  readonly verified: readonly string[];
  /** Names that changed, neither in `joined` nor in `left`. */
  readonly renamed: readonly Renamed[];
}

/** Why the server refused a client frame; see docs/protocol.md. */
export type FrameErrorCode =
  | "invalid_json"
  | "bad_frame"
  | "empty"
  | "too_long"
  | "rate_limited"
  | "unavailable"
  | "rejected"
  | "bad_name"
  | "name_taken"
  | "name_fixed"
  | "no_key"
  | "not_owner"
  | "no_such_message"
  | "edits_off"
  | "edit_window_passed"
  | "too_many_reactions"
  | "not_emoji"
  | "muted"
  | "not_moderator"
  | "no_such_user"
  | "bad_duration";

/** Tells a client that one of its frames was refused. */
export interface ErrorFrame {
  readonly type: "error";
  readonly code: FrameErrorCode;
  readonly error: string;
  /** The `cid` of the refused message, when it carried a valid one. */
  readonly cid?: string;
  /**
   * For `bad_name`: which rule the name broke ({@linkcode UserNameProblem});
   * for `muted`: the moderator's reason.
   */
  readonly reason?: UserNameProblem | string;
  /** For `muted`: until when, ISO-8601 (`null`: for good). */
  readonly until?: string | null;
  /** The `id` of the message an edit, delete or react was about. */
  readonly id?: number;
}

/** Every frame the server sends. */
export type ServerFrame =
  | MessageFrame
  | HistoryFrame
  | PresenceFrame
  | PresenceChangeFrame
  | PresenceBatchFrame
  | DeleteFrame
  | ErrorFrame
  | ConversationFrame
  | ModerationFrame;

/**
 * The WebSocket subprotocol of the typed protocol (the one declaration is
 * the client library's). A client that offers it in
 * `Sec-WebSocket-Protocol` receives every frame above.
 */
export { CHAT_PROTOCOL };

/**
 * The frames a connection receives.
 *
 * - `typed`: every {@linkcode ServerFrame}; for clients that offered
 *   {@linkcode CHAT_PROTOCOL}.
 * - `tutorial`: only frames that carry a `message`, for the Django Channels
 *   tutorial's room.html, which cannot offer a subprotocol and appends
 *   `data.message` of every frame to its log. History arrives as one
 *   `message` frame per message, errors carry their text as `message`, and
 *   presence frames are not sent.
 */
export type WireFormat = "typed" | "tutorial";

/**
 * The format a client asked for with its `Sec-WebSocket-Protocol` header (a
 * comma-separated list of offered subprotocols).
 */
export function wireFormatFor(offered: string | undefined): WireFormat {
  const protocols = (offered ?? "").split(",").map((item) => item.trim());
  return protocols.includes(CHAT_PROTOCOL) ? "typed" : "tutorial";
}

/** An error frame as a tutorial client gets it: the text also as `message`. */
export interface TutorialErrorFrame extends ErrorFrame {
  readonly message: string;
}

/**
 * Serialises `frame` for a connection speaking `format`: one text for a
 * typed client; for a tutorial client, one text per message it carries and
 * none for frames without one. Message frames are the same in both formats,
 * which lets live delivery serialise them once for everybody.
 */
export function serialiseFor(format: WireFormat, frame: ServerFrame): string[] {
  if (format === "typed") return [JSON.stringify(frame)];
  switch (frame.type) {
    case "message":
      return [JSON.stringify(frame)];
    case "history":
      return frame.messages.map((message) => JSON.stringify(message));
    case "error": {
      const tutorialError: TutorialErrorFrame = {
        ...frame,
        message: frame.error,
      };
      return [JSON.stringify(tutorialError)];
    }
    case "presence":
    case "join":
    case "leave":
    case "rename":
    case "presence_change":
    case "delete":
    case "typing":
    case "edit":
    case "reactions":
    case "muted":
    case "unmuted":
    case "role":
    case "moderated":
    case "sanctions":
      return [];
  }
}

/** The frame of a stored message. */
export function messageFrame(message: ChatMessage): MessageFrame {
  return {
    type: "message",
    id: message.id,
    room: message.room,
    user: message.user,
    message: message.message,
    ts: message.ts,
    ...(message.cid === undefined ? {} : { cid: message.cid }),
    verified: message.author !== undefined,
    ...(message.author === "server" ? { server: true } : {}),
    ...(message.edited === undefined ? {} : { edited: message.edited }),
    ...(message.reactions === undefined
      ? {}
      : { reactions: message.reactions }),
  };
}

/**
 * The frames of a conversation beyond messages: typing, edit, delete and
 * react as a client sends them, and typing, edit and reactions as members
 * receive them (typed clients only; see docs/protocol.md). Their parser
 * is `client_frames.ts`'s.
 *
 * @module
 */

import type { Reaction } from "./conversation_store.ts";
import type { RoomName } from "./room_name.ts";

/** The client is composing a message (sent at most every 3 s). */
export interface TypingRequestFrame {
  readonly type: "typing";
}

/** The owner replaces the text of message `id`. */
export interface EditRequestFrame {
  readonly type: "edit";
  readonly id: number;
  readonly message: string;
}

/** The owner deletes message `id`. */
export interface DeleteRequestFrame {
  readonly type: "delete";
  readonly id: number;
}

/** Adds the sender's `emoji` reaction to message `id`, or takes it back. */
export interface ReactRequestFrame {
  readonly type: "react";
  readonly id: number;
  readonly emoji: string;
}

/** A client frame about the conversation rather than a message. */
export type ConversationRequest =
  | TypingRequestFrame
  | EditRequestFrame
  | DeleteRequestFrame
  | ReactRequestFrame;

/** Who is typing in the room now (never the receiver itself). */
export interface TypingFrame {
  readonly type: "typing";
  readonly users: readonly string[];
}

/** A message's owner edited it. */
export interface EditFrame {
  readonly type: "edit";
  readonly room: RoomName;
  readonly id: number;
  readonly message: string;
  /** When, ISO-8601 in UTC. */
  readonly edited: string;
}

/** A message's whole reaction state after a change. */
export interface ReactionsFrame {
  readonly type: "reactions";
  readonly room: RoomName;
  readonly id: number;
  readonly reactions: readonly Reaction[];
}

/** A server frame about the conversation, sent to typed clients only. */
export type ConversationFrame = TypingFrame | EditFrame | ReactionsFrame;

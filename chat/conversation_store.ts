/**
 * What the store keeps of a conversation beyond the message log: who owns
 * each message (never sent to anyone), edits, and reactions; and the
 * wrapper that gives every history read (history frame, `since=`, repair,
 * the HTTP API) the edited text and the reactions. The SQLite and Redis
 * adapters implement {@linkcode ConversationStore}.
 *
 * @module
 */

import type { RoomName } from "./room_name.ts";

/** One emoji's reactions to a message. */
export interface Reaction {
  readonly emoji: string;
  readonly count: number;
  /** The names of who reacted, in the order they did. */
  readonly users: readonly string[];
}

/** Why the store refused a change to a message. */
export type ChangeRefusal =
  | "no_such_message"
  | "not_owner"
  | "edit_window_passed"
  | "too_many_reactions";

/** An edit to store, for {@linkcode ConversationStore.edit}. */
export interface EditChange {
  /** Who asks; must be the message's owner. */
  readonly owner: string;
  /** The name the owner goes by now (for the `message.edited` event). */
  readonly user: string;
  readonly message: string;
  /** When, ISO-8601 in UTC. */
  readonly edited: string;
  /** The oldest `ts` a message may have to be edited (ISO-8601). */
  readonly sentSince: string;
}

/** A reaction to toggle, for {@linkcode ConversationStore.react}. */
export interface ReactionToggle {
  /** Whose reaction it is: one per owner and emoji. */
  readonly owner: string;
  /** The name shown for it (and in the `message.reactions` event). */
  readonly user: string;
  readonly emoji: string;
  /** Distinct emoji a message may carry. */
  readonly maxDistinct: number;
}

/** What a change did: done, or refused and nothing changed. */
export type ChangeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: ChangeRefusal };

/** What history reads add to a message. */
export interface Annotation {
  /** The edited text, and when it was edited. */
  readonly edit?: { readonly message: string; readonly edited: string };
  readonly reactions?: readonly Reaction[];
}

/** Owners, edits and reactions of stored messages. */
export interface ConversationStore {
  /** Replaces the text of the owner's message, within the window. */
  edit(
    room: RoomName,
    id: number,
    change: EditChange,
  ): Promise<ChangeResult<{ message: string; edited: string }>>;
  /** Deletes the owner's message (as `MessageStore.remove` does). */
  removeOwn(
    room: RoomName,
    id: number,
    owner: string,
  ): Promise<ChangeResult<true>>;
  /** Adds the reaction, or takes it back; resolves the whole state. */
  react(
    room: RoomName,
    id: number,
    toggle: ReactionToggle,
  ): Promise<ChangeResult<Reaction[]>>;
  /** Edits and reactions of the messages `ids` that have any. */
  annotations(
    room: RoomName,
    ids: readonly number[],
  ): Promise<Map<number, Annotation>>;
}

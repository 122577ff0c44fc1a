/**
 * The conversation around messages, for one isolate's hub: an owner's edit
 * and delete, reactions, and typing; each checked by the store, told to
 * the local typed members and, over the bus, to every other isolate and
 * process. What comes back over the bus is parsed here as carefully as
 * what a socket sends.
 *
 * @module
 */

import type { Connection } from "./connection.ts";
import type { EditFrame, ReactionsFrame } from "./conversation_frames.ts";
import { isOneEmoji, MAX_DISTINCT_REACTIONS } from "./emoji.ts";
import type {
  ChangeRefusal,
  ConversationStore,
  Reaction,
} from "./conversation_store.ts";
import type { DeleteFrame, ErrorFrame, FrameErrorCode } from "./frames.ts";
import { isRecord, parseJson } from "./json.ts";
import type { RoomName } from "./room_name.ts";
import { TypingRooms } from "./typing.ts";
import { MAX_USER_NAME_CHARS, signedSub } from "./user_name.ts";
import type { PublishHook } from "./publish_hook.ts";

/** What {@linkcode Conversation} needs from the hub. */
export interface ConversationOptions {
  readonly store: ConversationStore;
  /** Edits are allowed this long after a message; 0 turns them off. */
  readonly editWindowMs: number;
  readonly now: () => Date;
  /** The room's local connections, when it is open here. */
  readonly connections: (room: RoomName) => Iterable<Connection> | undefined;
  /** Sends a delete to the room's local members (as the server API's). */
  readonly deliverDelete: (room: RoomName, frame: DeleteFrame) => void;
  /** Publishes to the other isolates and processes. */
  readonly publish: (room: RoomName, text: string) => void;
  /**
   * Asked about an edit's text as about a message's, so that an edit
   * cannot say what a message could not. @default none
   */
  readonly publishHook?: PublishHook | undefined;
}

/** Who asks for a change to a message. */
export interface Requester {
  /** The socket's owner (see `nameOwner`); none for a socket without a key. */
  readonly owner: string | undefined;
  /** The name it goes by now. */
  readonly user: string;
}

const REFUSALS: Record<ChangeRefusal | "no_key" | "edits_off", string> = {
  no_key: "Only a socket with a browser key or a token owns its messages",
  not_owner: "That message is someone else's",
  no_such_message: "No such message in this room",
  edit_window_passed: "That message is too old to edit",
  edits_off: "Edits are turned off on this server",
  too_many_reactions:
    `A message carries at most ${MAX_DISTINCT_REACTIONS} different reactions`,
};

function refusal(
  code: ChangeRefusal | "no_key" | "edits_off",
  id: number,
): ErrorFrame {
  const frameCode: FrameErrorCode = code;
  return { type: "error", code: frameCode, error: REFUSALS[code], id };
}

function isReactions(value: unknown): value is Reaction[] {
  return Array.isArray(value) && value.length <= MAX_DISTINCT_REACTIONS &&
    value.every((item) =>
      isRecord(item) && typeof item.emoji === "string" &&
      isOneEmoji(item.emoji) && Array.isArray(item.users) &&
      item.users.every((user) => typeof user === "string") &&
      item.count === item.users.length
    );
}

function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) &&
    value > 0;
}

/** Edits, deletes, reactions and typing of one isolate's rooms. */
export class Conversation {
  readonly #options: ConversationOptions;
  readonly #typing: TypingRooms;

  constructor(options: ConversationOptions) {
    this.#options = options;
    this.#typing = new TypingRooms({ connections: options.connections });
  }

  /** Replaces the text of the requester's message; an error frame if not. */
  async edit(
    room: RoomName,
    requester: Requester,
    request: { readonly id: number; readonly message: string },
  ): Promise<ErrorFrame | undefined> {
    const { id } = request;
    const { editWindowMs, now } = this.#options;
    if (editWindowMs <= 0) return refusal("edits_off", id);
    if (requester.owner === undefined) return refusal("no_key", id);
    const screened = await this.#screen(room, requester, request);
    if (typeof screened !== "string") return screened;
    const at = now();
    const result = await this.#options.store.edit(room, id, {
      owner: requester.owner,
      user: requester.user,
      message: screened,
      edited: at.toISOString(),
      sentSince: new Date(at.getTime() - editWindowMs).toISOString(),
    });
    if (!result.ok) return refusal(result.code, id);
    const frame: EditFrame = { type: "edit", room, id, ...result.value };
    this.#tell(room, frame);
    return undefined;
  }

  /**
   * The edit's text as the publish hook has it (the same, or its
   * replacement), or the refusal to send.
   */
  async #screen(
    room: RoomName,
    requester: Requester,
    request: { readonly id: number; readonly message: string },
  ): Promise<string | ErrorFrame> {
    const hook = this.#options.publishHook;
    if (!hook) return request.message;
    const sub = signedSub(requester.owner ?? "");
    const verdict = await hook.screen({
      room,
      user: requester.user,
      verified: sub !== undefined,
      ...(sub === undefined ? {} : { sub }),
      message: request.message,
    });
    switch (verdict.action) {
      case "allow":
        return request.message;
      case "replace":
        return verdict.message;
      case "reject":
        return {
          type: "error",
          code: "rejected",
          error: verdict.reason,
          id: request.id,
        };
      case "unchecked":
        return {
          type: "error",
          code: "unavailable",
          error:
            "The site's publish hook could not be asked; the edit was not made, try again later",
          id: request.id,
        };
    }
  }

  /** Deletes the requester's message; an error frame if not. */
  async delete(
    room: RoomName,
    requester: Requester,
    id: number,
  ): Promise<ErrorFrame | undefined> {
    if (requester.owner === undefined) return refusal("no_key", id);
    const result = await this.#options.store.removeOwn(
      room,
      id,
      requester.owner,
    );
    if (!result.ok) return refusal(result.code, id);
    const frame: DeleteFrame = { type: "delete", room, id };
    this.#options.deliverDelete(room, frame);
    this.#options.publish(room, JSON.stringify(frame));
    return undefined;
  }

  /** Toggles the requester's reaction; an error frame if refused. */
  async react(
    room: RoomName,
    requester: { readonly owner: string; readonly user: string },
    request: { readonly id: number; readonly emoji: string },
  ): Promise<ErrorFrame | undefined> {
    const { id, emoji } = request;
    const result = await this.#options.store.react(room, id, {
      owner: requester.owner,
      user: requester.user,
      emoji,
      maxDistinct: MAX_DISTINCT_REACTIONS,
    });
    if (!result.ok) return refusal(result.code, id);
    const frame: ReactionsFrame = {
      type: "reactions",
      room,
      id,
      reactions: result.value,
    };
    this.#tell(room, frame);
    return undefined;
  }

  /** `user` is typing in `room`: listed here and on every other node. */
  typing(room: RoomName, user: string): void {
    this.#typing.typing(room, user);
    this.#options.publish(room, JSON.stringify({ type: "typist", user }));
  }

  /** `connection` caught up with `room`: it hears who types there now. */
  admitted(room: RoomName, connection: Connection): void {
    this.#typing.admitted(room, connection);
  }

  /** A message of `user` arrived in `room`: no longer typing. */
  spoke(room: RoomName, user: string): void {
    this.#typing.spoke(room, user);
  }

  /** The room closed on this isolate. */
  roomClosed(room: RoomName): void {
    this.#typing.drop(room);
  }

  /** Rooms of this isolate with someone typing. */
  get typingRooms(): number {
    return this.#typing.size;
  }

  /** Stops the typing timers. */
  close(): void {
    this.#typing.close();
  }

  /**
   * Handles a conversation event from the bus for `room`; false when the
   * text is not one (the hub's other events), or not a valid one.
   */
  receive(room: RoomName, text: string): boolean {
    // Most of the bus is messages and presence: not even parsed here.
    if (
      !text.includes('"typist"') && !text.includes('"edit"') &&
      !text.includes('"reactions"')
    ) return false;
    const parsed = parseJson(text);
    if (!parsed.ok || !isRecord(parsed.value)) return false;
    const value = parsed.value;
    if (
      value.type === "typist" && typeof value.user === "string" &&
      [...value.user].length <= MAX_USER_NAME_CHARS
    ) {
      this.#typing.typing(room, value.user);
      return true;
    }
    if (value.room !== room || !isId(value.id)) return false;
    if (
      value.type === "edit" && typeof value.message === "string" &&
      typeof value.edited === "string"
    ) {
      this.#deliver(room, {
        type: "edit",
        room,
        id: value.id,
        message: value.message,
        edited: value.edited,
      });
      return true;
    }
    if (value.type === "reactions" && isReactions(value.reactions)) {
      this.#deliver(room, {
        type: "reactions",
        room,
        id: value.id,
        reactions: value.reactions,
      });
      return true;
    }
    return false;
  }

  #tell(room: RoomName, frame: EditFrame | ReactionsFrame): void {
    this.#deliver(room, frame);
    this.#options.publish(room, JSON.stringify(frame));
  }

  #deliver(room: RoomName, frame: EditFrame | ReactionsFrame): void {
    const text = JSON.stringify(frame);
    for (const connection of this.#options.connections(room) ?? []) {
      if (connection.live && connection.member.format === "typed") {
        connection.member.deliver(text);
      }
    }
  }
}

/**
 * A socket's conversation frames (typing, edit, delete, react) handed to
 * the hub: who the socket is (its owner; none without a key), the typing
 * frames it may send (one per `TYPING_EVERY_MS`, the rest dropped), and
 * the refusal a tutorial client gets, which knows none of them.
 *
 * @module
 */

import type { ConversationRequest } from "../chat/conversation_frames.ts";
import type { ErrorFrame, WireFormat } from "../chat/frames.ts";
import type { ChatHub } from "../chat/hub.ts";
import type { RoomName } from "../chat/room_name.ts";
import { TYPING_EVERY_MS } from "../chat/typing.ts";
import { isAnonymousOwner } from "../chat/user_name.ts";
import type { Logger } from "../chat/logger.ts";
import { notForTutorial, notStored } from "./session_answers.ts";

/**
 * Who owns what a socket sends, and may edit and delete it: its key's or
 * token's owner. A socket that came with neither owns nothing: its owner
 * is its own, gone with it.
 */
export function messageOwner(owner: string): string | undefined {
  return isAnonymousOwner(owner) ? undefined : owner;
}

/** The socket a conversation frame came from. */
export interface ConversingSocket {
  /** The connection's id in logs. */
  readonly id: string;
  readonly room: RoomName;
  readonly format: WireFormat;
  /** The socket's owner (see `nameOwner`). */
  readonly owner: string;
  /** The name it goes by now. */
  readonly user: () => string;
  /** Sends the socket an error frame. */
  readonly refuse: (error: ErrorFrame) => void;
  readonly log: Logger;
}

/** One socket's side of the conversation. */
export class SessionConversation {
  readonly #hub: ChatHub;
  readonly #socket: ConversingSocket;
  #typedAt = -Infinity;

  constructor(hub: ChatHub, socket: ConversingSocket) {
    this.#hub = hub;
    this.#socket = socket;
  }

  /**
   * Carries out `frame`, or tells the socket why not (nothing changed
   * then; a store that failed is `unavailable`). Never rejects.
   */
  async handle(frame: ConversationRequest): Promise<void> {
    const { id, room, log, refuse } = this.#socket;
    try {
      const refused = await this.#carryOut(frame);
      if (refused) refuse(refused);
    } catch (error) {
      log.error("socket.conversation_failed", { connection: id, room, error });
      if (frame.type !== "typing") {
        refuse({
          type: "error",
          code: "unavailable",
          error: notStored(error),
          id: frame.id,
        });
      }
    }
  }

  async #carryOut(
    frame: ConversationRequest,
  ): Promise<ErrorFrame | undefined> {
    const { room, format, owner } = this.#socket;
    const user = this.#socket.user();
    if (format === "tutorial") {
      return notForTutorial(frame.type);
    }
    const keyed = messageOwner(owner);
    const conversation = this.#hub.conversation;
    switch (frame.type) {
      case "typing": {
        const now = Date.now();
        if (now - this.#typedAt < TYPING_EVERY_MS) return undefined;
        this.#typedAt = now;
        conversation.typing(room, user);
        return undefined;
      }
      case "edit":
        return await conversation.edit(room, { owner: keyed, user }, frame);
      case "delete":
        return await conversation.delete(
          room,
          { owner: keyed, user },
          frame.id,
        );
      case "react":
        return await conversation.react(room, { owner, user }, frame);
    }
  }
}

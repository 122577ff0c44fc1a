/**
 * The {@linkcode ConversationStore} in Redis: a message's owner is a field
 * of its stream entry (written by the append script), its edit two fields
 * of the hash `edits:<room>`, its reactions one field of `reacts:<room>`.
 * Both hashes go with the room when expiry forgets it; a delete takes the
 * message's fields, and every `NOTES_SWEEP_EVERY` new fields the notes of
 * messages trimmed from the stream go. With webhooks on, the edit and
 * react scripts write the `message.edited` and `message.reactions` events
 * as they change the notes; an own delete goes through the message log's
 * script, which writes `message.deleted`.
 *
 * @module
 */

import type { RedisConnection } from "./connection.ts";
import type { RedisOutboxWriter } from "./outbox.ts";
import { EDIT, NOTES, REACT } from "./conversation_scripts.ts";
import type { RoomName } from "../../chat/room_name.ts";
import type {
  Annotation,
  ChangeRefusal,
  ConversationStore,
  Reaction,
} from "../../chat/conversation_store.ts";
import { type MessageStore, StoreError } from "../../chat/store.ts";
import { actorData, type EditedData } from "../../chat/webhook_events.ts";

/** The keys of the conversation notes of a room, under `prefix`. */
export function conversationKeys(prefix: string) {
  return {
    edits: (room: string) => `${prefix}edits:${room}`,
    reactions: (room: string) => `${prefix}reacts:${room}`,
  };
}

function isRefusal(value: unknown): value is ChangeRefusal {
  return value === "no_such_message" || value === "not_owner" ||
    value === "edit_window_passed" || value === "too_many_reactions";
}

/** A stored reaction list as reactions; its owners stay here. */
function toReactions(room: RoomName, raw: unknown): Reaction[] {
  let list: unknown;
  try {
    list = typeof raw === "string" ? JSON.parse(raw) : undefined;
  } catch (error) {
    throw new StoreError(`Redis holds bad reactions in room ${room}`, {
      cause: error,
    });
  }
  if (!Array.isArray(list)) {
    // cjson writes an empty list as an object.
    if (typeof list === "object" && list !== null) return [];
    throw new StoreError(`Redis holds bad reactions in room ${room}`);
  }
  const byEmoji = new Map<string, string[]>();
  for (const item of list) {
    if (
      !Array.isArray(item) || typeof item[0] !== "string" ||
      typeof item[2] !== "string"
    ) throw new StoreError(`Redis holds a bad reaction in room ${room}`);
    const users = byEmoji.get(item[0]) ?? [];
    byEmoji.set(item[0], users);
    users.push(item[2]);
  }
  return [...byEmoji].map(([emoji, users]) => ({
    emoji,
    count: users.length,
    users,
  }));
}

/**
 * The conversation notes on `redis`, beside the message log `messages`;
 * `outbox` writes their webhook events (none when webhooks are off).
 */
export function openRedisConversation(
  redis: RedisConnection,
  messages: MessageStore,
  keys: {
    readonly prefix: string;
    readonly stream: (room: string) => string;
  },
  outbox?: RedisOutboxWriter,
): ConversationStore {
  const notes = conversationKeys(keys.prefix);
  return {
    async edit(room, id, change) {
      const data: EditedData = {
        id,
        message: change.message,
        edited: change.edited,
        ...actorData(change.user, change.owner),
      };
      const reply = await EDIT.run(
        redis,
        [keys.stream(room), notes.edits(room)],
        [
          id,
          change.owner,
          change.message,
          change.edited,
          change.sentSince,
          ...(outbox
            ? [
              outbox.context(new Date(change.edited)),
              room,
              JSON.stringify(data),
            ]
            : ["", "", ""]),
        ],
      );
      outbox?.wrote();
      if (reply === "ok") {
        return {
          ok: true,
          value: { message: change.message, edited: change.edited },
        };
      }
      if (isRefusal(reply)) return { ok: false, code: reply };
      throw new StoreError(`Redis returned a bad edit reply for ${room}`);
    },
    async removeOwn(room, id, owner) {
      // The owner never changes and ids are never reused: checked, the
      // delete cannot hit another's message.
      const entries = await redis.run([
        "XRANGE",
        keys.stream(room),
        `${id}-0`,
        `${id}-0`,
      ]);
      const fields = Array.isArray(entries) && Array.isArray(entries[0])
        ? entries[0][1]
        : undefined;
      if (!Array.isArray(fields)) return { ok: false, code: "no_such_message" };
      let stored: unknown = "";
      for (let index = 0; index + 1 < fields.length; index += 2) {
        if (fields[index] === "owner") stored = fields[index + 1];
      }
      if (stored === "" || stored !== owner) {
        return { ok: false, code: "not_owner" };
      }
      if (!await messages.remove(room, id)) {
        return { ok: false, code: "no_such_message" };
      }
      return { ok: true, value: true };
    },
    async react(room, id, toggle) {
      // The script adds whether it was added and the reactions after.
      const head = JSON.stringify({
        id,
        emoji: toggle.emoji,
        ...actorData(toggle.user, toggle.owner),
      }).slice(0, -1);
      const reply = await REACT.run(
        redis,
        [keys.stream(room), notes.reactions(room)],
        [
          id,
          toggle.emoji,
          toggle.owner,
          toggle.user,
          toggle.maxDistinct,
          ...(outbox ? [outbox.context(new Date()), room, head] : ["", "", ""]),
        ],
      );
      outbox?.wrote();
      if (!Array.isArray(reply)) {
        throw new StoreError(`Redis returned a bad react reply for ${room}`);
      }
      if (reply[0] === "ok") {
        return { ok: true, value: toReactions(room, reply[1]) };
      }
      if (isRefusal(reply[0])) return { ok: false, code: reply[0] };
      throw new StoreError(`Redis returned a bad react reply for ${room}`);
    },
    async annotations(room, ids) {
      const found = new Map<number, Annotation>();
      if (ids.length === 0) return found;
      const reply = await NOTES.run(
        redis,
        [notes.edits(room), notes.reactions(room)],
        ids,
      );
      const [edits, reactions] = Array.isArray(reply) ? reply : [];
      if (!Array.isArray(edits) || !Array.isArray(reactions)) {
        throw new StoreError(`Redis returned bad notes for ${room}`);
      }
      ids.forEach((id, index) => {
        const message: unknown = edits[2 * index];
        const edited: unknown = edits[2 * index + 1];
        const raw: unknown = reactions[index];
        const list = typeof raw === "string" ? toReactions(room, raw) : [];
        if (typeof message !== "string" && list.length === 0) return;
        found.set(id, {
          ...(typeof message === "string" && typeof edited === "string"
            ? { edit: { message, edited } }
            : {}),
          ...(list.length > 0 ? { reactions: list } : {}),
        });
      });
      return found;
    },
  };
}

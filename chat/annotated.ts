/**
 * A message log whose every read (the history frame, `since=` recovery,
 * repair, the HTTP API) returns each message as it stands now: with its
 * edited text and its reactions, from the {@linkcode ConversationStore}.
 *
 * @module
 */

import type { Annotation, ConversationStore } from "./conversation_store.ts";
import type { RoomName } from "./room_name.ts";
import type { ChatMessage, MessageStore } from "./store.ts";

/** `message` with its edit and reactions. */
export function annotate(
  message: ChatMessage,
  annotation: Annotation | undefined,
): ChatMessage {
  if (!annotation) return message;
  const { edit, reactions } = annotation;
  return {
    ...message,
    ...(edit ? { message: edit.message, edited: edit.edited } : {}),
    ...(reactions && reactions.length > 0 ? { reactions } : {}),
  };
}

/**
 * `messages` whose reads return each message as it stands now: edited, and
 * with its reactions.
 */
export function annotated(
  messages: MessageStore,
  conversation: ConversationStore,
): MessageStore {
  const withNotes = async (room: RoomName, found: ChatMessage[]) => {
    if (found.length === 0) return found;
    const notes = await conversation.annotations(
      room,
      found.map((message) => message.id),
    );
    if (notes.size === 0) return found;
    return found.map((message) => annotate(message, notes.get(message.id)));
  };
  return {
    ...messages,
    append: (room, message) => messages.append(room, message),
    remove: (room, id) => messages.remove(room, id),
    bounds: (room) => messages.bounds(room),
    positions: (rooms) => messages.positions(rooms),
    expire: (before) => messages.expire(before),
    latest: async (room, limit) =>
      withNotes(room, await messages.latest(room, limit)),
    after: async (room, afterId, limit) =>
      withNotes(room, await messages.after(room, afterId, limit)),
    before: async (room, beforeId, limit) =>
      withNotes(room, await messages.before(room, beforeId, limit)),
  };
}

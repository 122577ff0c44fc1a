/**
 * The {@linkcode ConversationStore} in SQLite: a message's owner in its
 * `owner` column, its edit in `edits`, its reactions in `reactions` (one
 * row per emoji and owner, in the order they came); a trigger drops a
 * message's edit and reactions with it (a delete, a prune, expiry). With
 * webhooks on, an edit writes its `message.edited` event and a toggle its
 * `message.reactions` event in the same transaction; an own delete goes
 * through the message log's, which writes `message.deleted`.
 *
 * @module
 */

import type { SqliteDatabase } from "./database.ts";
import type { OutboxWriter } from "./outbox.ts";
import { intField, type Row, textField } from "./rows.ts";
import type { RoomName } from "../../chat/room_name.ts";
import type {
  Annotation,
  ConversationStore,
  Reaction,
} from "../../chat/conversation_store.ts";
import type { MessageStore } from "../../chat/store.ts";
import { StoreError } from "../../chat/store.ts";
import { actorData, webhookPayload } from "../../chat/webhook_events.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function bytesField(row: Row, key: string): string {
  const value = row[key];
  if (value instanceof Uint8Array) return decoder.decode(value);
  throw new StoreError(`Column ${key} holds ${typeof value}, not UTF-8 bytes`);
}

/** Rows of (id, emoji, user) in order as each message's reactions. */
function groupReactions(rows: Row[]): Map<number, Reaction[]> {
  const byMessage = new Map<number, Map<string, string[]>>();
  for (const row of rows) {
    const id = intField(row, "id");
    const emoji = textField(row, "emoji");
    const emojis = byMessage.get(id) ?? new Map<string, string[]>();
    byMessage.set(id, emojis);
    const users = emojis.get(emoji) ?? [];
    emojis.set(emoji, users);
    users.push(textField(row, "user"));
  }
  const grouped = new Map<number, Reaction[]>();
  for (const [id, emojis] of byMessage) {
    grouped.set(
      id,
      [...emojis].map(([emoji, users]) => ({
        emoji,
        count: users.length,
        users,
      })),
    );
  }
  return grouped;
}

/**
 * The conversation notes of the open, migrated `database`; `outbox` takes
 * their webhook events (none when webhooks are off).
 */
export function openSqliteConversation(
  database: SqliteDatabase,
  messages: MessageStore,
  outbox?: OutboxWriter,
): ConversationStore {
  const selectMessage = database.prepare(
    "SELECT owner, ts FROM messages WHERE room = ? AND id = ?",
  );
  const upsertEdit = database.prepare(
    `INSERT INTO edits (room, id, message, edited) VALUES (?, ?, ?, ?)
     ON CONFLICT (room, id) DO UPDATE SET message = excluded.message,
       edited = excluded.edited`,
  );
  const deleteReaction = database.prepare(
    "DELETE FROM reactions WHERE room = ? AND id = ? AND emoji = ? AND owner = ?",
  );
  const insertReaction = database.prepare(
    "INSERT INTO reactions (room, id, emoji, owner, user) VALUES (?, ?, ?, ?, ?)",
  );
  const hasEmoji = database.prepare(
    "SELECT 1 FROM reactions WHERE room = ? AND id = ? AND emoji = ? LIMIT 1",
  );
  const countEmoji = database.prepare(
    "SELECT COUNT(DISTINCT emoji) AS n FROM reactions WHERE room = ? AND id = ?",
  );
  const reactionsOf = database.prepare(
    "SELECT id, emoji, user FROM reactions WHERE room = ? AND id = ? ORDER BY rowid",
  );
  const reactionsBetween = database.prepare(
    `SELECT id, emoji, user FROM reactions WHERE room = ? AND id BETWEEN ? AND ?
     ORDER BY rowid`,
  );
  const editsBetween = database.prepare(
    "SELECT id, message, edited FROM edits WHERE room = ? AND id BETWEEN ? AND ?",
  );
  /** The message's owner ('' for none) and time, or undefined. */
  const find = (room: RoomName, id: number) => {
    const row = selectMessage.get(room, id);
    if (!row) return undefined;
    return {
      owner: row.owner === null ? "" : textField(row, "owner"),
      ts: textField(row, "ts"),
    };
  };

  return {
    edit(room, id, change) {
      return Promise.resolve(database.transaction(() => {
        const found = find(room, id);
        if (!found) return { ok: false, code: "no_such_message" } as const;
        if (found.owner === "" || found.owner !== change.owner) {
          return { ok: false, code: "not_owner" } as const;
        }
        if (found.ts < change.sentSince) {
          return { ok: false, code: "edit_window_passed" } as const;
        }
        upsertEdit.run(room, id, encoder.encode(change.message), change.edited);
        outbox?.write([
          webhookPayload("message.edited", room, {
            id,
            message: change.message,
            edited: change.edited,
            ...actorData(change.user, change.owner),
          }, new Date(change.edited)),
        ]);
        return {
          ok: true,
          value: { message: change.message, edited: change.edited },
        } as const;
      }));
    },
    async removeOwn(room, id, owner) {
      // The owner never changes and ids are never reused: checked, the
      // delete cannot hit another's message.
      const found = find(room, id);
      if (!found) return { ok: false, code: "no_such_message" };
      if (found.owner === "" || found.owner !== owner) {
        return { ok: false, code: "not_owner" };
      }
      if (!await messages.remove(room, id)) {
        return { ok: false, code: "no_such_message" };
      }
      return { ok: true, value: true };
    },
    react(room, id, toggle) {
      return Promise.resolve(database.transaction(() => {
        if (!find(room, id)) {
          return { ok: false, code: "no_such_message" } as const;
        }
        const { emoji, owner, user } = toggle;
        const added =
          Number(deleteReaction.run(room, id, emoji, owner).changes) === 0;
        if (added) {
          const distinct = intField(countEmoji.get(room, id) ?? {}, "n");
          if (
            distinct >= toggle.maxDistinct && !hasEmoji.get(room, id, emoji)
          ) {
            return { ok: false, code: "too_many_reactions" } as const;
          }
          insertReaction.run(room, id, emoji, owner, user);
        }
        const value = groupReactions(reactionsOf.all(room, id)).get(id) ?? [];
        outbox?.write([
          webhookPayload("message.reactions", room, {
            id,
            emoji,
            ...actorData(user, owner),
            added,
            reactions: value,
          }, new Date()),
        ]);
        return { ok: true, value } as const;
      }));
    },
    annotations(room, ids) {
      const notes = new Map<number, Annotation>();
      if (ids.length === 0) return Promise.resolve(notes);
      const low = Math.min(...ids);
      const high = Math.max(...ids);
      for (const row of editsBetween.all(room, low, high)) {
        notes.set(intField(row, "id"), {
          edit: {
            message: bytesField(row, "message"),
            edited: textField(row, "edited"),
          },
        });
      }
      const reactions = groupReactions(reactionsBetween.all(room, low, high));
      for (const [id, list] of reactions) {
        notes.set(id, { ...notes.get(id), reactions: list });
      }
      return Promise.resolve(notes);
    },
  };
}

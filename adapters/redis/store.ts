/**
 * The {@linkcode Store} in Redis, for several server processes (or
 * machines) sharing rooms. Each room's messages are one stream whose entry
 * ids are the message ids (`<id>-0`); the next id is taken from the room's
 * counter in the same Lua script that writes the entry, so two processes
 * never hand out the same id and ids grow by one without gaps. Presence is
 * in `redis_presence.ts`.
 *
 * Keys, under the prefix `chat:`: `seq:<room>` (the last id), `epoch:<room>`
 * (the log's epoch: begun with its counter, so that a Redis that lost the
 * counter, restarted without persistence, begins the log again under
 * another one; a reader of a log not begun yet makes it, expiring, so that
 * its history frame carries the epoch the log will begin under),
 * `msgs:<room>` (the stream, trimmed with `MAXLEN ~ CHAT_HISTORY_MAX`),
 * `cids:<room>` (client ids of the recent messages, for idempotent sends),
 * `rooms` (the rooms holding messages, for `CHAT_MAX_ROOMS`), `recent` (the
 * same rooms scored by their newest message's time in ms, for the index
 * page), `health` (the health probe's write); `edits:<room>` and
 * `reacts:<room>` are `conversation.ts`'s, `mod:…` `moderation.ts`'s. A
 * message's stream entry holds its `owner`.
 *
 * @module
 */

import { newEpoch } from "../../chat/epoch.ts";
import { RedisConnection } from "./connection.ts";
import {
  APPEND,
  BOUNDS,
  EXPIRE,
  REMOVE,
  UNBEGUN_EPOCH_TTL_MS,
} from "./store_scripts.ts";
import { openRedisOutbox, RedisOutboxWriter, splitAtId } from "./outbox.ts";
import { messageFrame } from "../../chat/frames.ts";
import { openRedisPresence } from "./presence.ts";
import { conversationKeys, openRedisConversation } from "./conversation.ts";
import { openRedisModeration } from "./moderation.ts";
import { annotated } from "../../chat/annotated.ts";
import { parseRoomName, type RoomName } from "../../chat/room_name.ts";
import {
  type AppendResult,
  type ChatMessage,
  type MessageStore,
  type NewMessage,
  type RecentRoom,
  type RoomBounds,
  type RoomPosition,
  type Store,
  StoreError,
} from "../../chat/store.ts";
import { type Logger, silentLogger } from "../../chat/logger.ts";

/** Every key of the chat server starts with this. */
export const KEY_PREFIX = "chat:";

/** Options for {@linkcode openRedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…`. */
  readonly url: URL;
  /** Messages kept per room (at least; the stream is trimmed in blocks). */
  readonly historyMax: number;
  /** How many recent ids a repeated `cid` is recognised within. */
  readonly dedupeWindow: number;
  /** Rooms that may hold messages at once. */
  readonly maxRooms: number;
  /** How long the entries of a silent node count, in ms. */
  readonly presenceTtlMs: number;
  /**
   * The webhook receivers (their outbox names): events are written with
   * what causes them (see outbox.ts). @default none, webhooks off
   */
  readonly webhookReceivers?: readonly string[];
  /** @default silentLogger */
  readonly log?: Logger;
}

const keys = {
  seq: (room: string) => `${KEY_PREFIX}seq:${room}`,
  epoch: (room: string) => `${KEY_PREFIX}epoch:${room}`,
  stream: (room: string) => `${KEY_PREFIX}msgs:${room}`,
  cids: (room: string) => `${KEY_PREFIX}cids:${room}`,
  rooms: `${KEY_PREFIX}rooms`,
  recent: `${KEY_PREFIX}recent`,
  health: `${KEY_PREFIX}health`,
};

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) &&
    value.every((item) => typeof item === "string");
}

/** A stream entry (`[id, [field, value, …]]`) as a message of `room`. */
function toMessage(room: RoomName, entry: unknown): ChatMessage {
  if (!Array.isArray(entry) || entry.length !== 2) {
    throw new StoreError(`Redis returned a malformed entry in room ${room}`);
  }
  const [rawId, fields] = entry;
  const id = typeof rawId === "string" ? Number(rawId.split("-")[0]) : NaN;
  return messageFromFields(room, id, fields);
}

function messageFromFields(
  room: RoomName,
  id: number,
  fields: unknown,
): ChatMessage {
  if (!Number.isSafeInteger(id) || id < 1 || !isStringArray(fields)) {
    throw new StoreError(`Redis returned a malformed entry in room ${room}`);
  }
  const values = new Map<string, string>();
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const field = fields[index];
    const value = fields[index + 1];
    if (field !== undefined && value !== undefined) values.set(field, value);
  }
  const user = values.get("user");
  const message = values.get("message");
  const ts = values.get("ts");
  if (user === undefined || message === undefined || ts === undefined) {
    throw new StoreError(`Redis entry ${id} of room ${room} lacks a field`);
  }
  const cid = values.get("cid");
  const author = values.get("author");
  if (author !== undefined && author !== "signed" && author !== "server") {
    throw new StoreError(`Redis entry ${id} of room ${room} has a bad author`);
  }
  return {
    id,
    room,
    user,
    message,
    ts,
    ...(cid === undefined ? {} : { cid }),
    ...(author === undefined ? {} : { author }),
  };
}

function toMessages(room: RoomName, entries: unknown): ChatMessage[] {
  if (!Array.isArray(entries)) {
    throw new StoreError(`Redis returned no list of entries for room ${room}`);
  }
  return entries.map((entry) => toMessage(room, entry));
}

function toCount(value: unknown, what: string): number {
  const number = typeof value === "number"
    ? value
    : typeof value === "string"
    ? Number(value)
    : value === null
    ? 0
    : NaN;
  if (!Number.isSafeInteger(number) || number < 0) {
    throw new StoreError(`Redis returned a bad ${what}: ${String(value)}`);
  }
  return number;
}

/**
 * The positions of `count` rooms from one MGET of their counters, then
 * their epochs.
 */
function toPositions(values: unknown, count: number): RoomPosition[] {
  if (!Array.isArray(values) || values.length !== 2 * count) {
    throw new StoreError("Redis returned a bad list for MGET");
  }
  return Array.from({ length: count }, (_, index) => {
    const epoch: unknown = values[count + index];
    if (epoch !== null && typeof epoch !== "string") {
      throw new StoreError(`Redis returned a bad epoch: ${String(epoch)}`);
    }
    return {
      last: toCount(values[index], "last id"),
      epoch: epoch ?? "",
    };
  });
}

/**
 * `ZREVRANGE … WITHSCORES` of `recent` (name, score, name, score, …) as
 * rooms; a name that is not a room name is skipped.
 */
function toRecentRooms(reply: unknown): RecentRoom[] {
  if (!isStringArray(reply) || reply.length % 2 !== 0) {
    throw new StoreError("Redis returned a bad list for the recent rooms");
  }
  const rooms: RecentRoom[] = [];
  for (let index = 0; index + 1 < reply.length; index += 2) {
    const name = parseRoomName(reply[index] ?? "");
    const ms = Number(reply[index + 1]);
    if (!name.ok || !Number.isFinite(ms)) continue;
    rooms.push({ name: name.name, lastMessageAt: new Date(ms).toISOString() });
  }
  return rooms;
}

/**
 * Connects to Redis and returns the store; rejects with a one-line
 * {@linkcode StoreError} when Redis cannot be reached.
 */
export async function openRedisStore(
  options: RedisStoreOptions,
): Promise<Store> {
  const log = options.log ?? silentLogger;
  const redis = await RedisConnection.open(options.url, "store", log);
  const receivers = options.webhookReceivers ?? [];
  const writer = receivers.length > 0
    ? new RedisOutboxWriter(KEY_PREFIX, receivers)
    : undefined;
  /** The webhook arguments of an append: none when webhooks are off. */
  const appendEvents = (room: RoomName, message: NewMessage) => {
    if (!writer) return ["", "", ""];
    const { head, tail } = splitAtId(
      JSON.stringify(messageFrame({ id: 0, room, ...message })),
    );
    return [writer.context(new Date(message.ts)), head, tail];
  };

  const notes = conversationKeys(KEY_PREFIX);
  const messageLog: MessageStore = {
    async append(room, message): Promise<AppendResult> {
      const reply = await APPEND.run(
        redis,
        [
          keys.seq(room),
          keys.stream(room),
          keys.cids(room),
          keys.rooms,
          keys.epoch(room),
          keys.recent,
        ],
        [
          room,
          message.user,
          message.message,
          message.ts,
          message.cid ?? "",
          options.dedupeWindow,
          options.historyMax,
          options.maxRooms,
          message.author ?? "",
          newEpoch(),
          message.owner ?? "",
          Date.parse(message.ts) || 0,
          ...appendEvents(room, message),
        ],
      );
      writer?.wrote();
      if (
        !Array.isArray(reply) || typeof reply[1] !== "number" ||
        typeof reply[2] !== "string"
      ) {
        throw new StoreError(`Redis returned a bad append reply for ${room}`);
      }
      const id = reply[1];
      const epoch = reply[2];
      if (reply[0] === 1) {
        return {
          message: messageFromFields(room, id, reply[3]),
          duplicate: true,
          epoch,
        };
      }
      return { message: { id, room, ...message }, duplicate: false, epoch };
    },
    async latest(room, limit) {
      if (limit <= 0) return [];
      const entries = await redis.run([
        "XREVRANGE",
        keys.stream(room),
        "+",
        "-",
        "COUNT",
        limit,
      ]);
      return toMessages(room, entries).reverse();
    },
    async after(room, afterId, limit) {
      if (limit <= 0) return [];
      const entries = await redis.run([
        "XRANGE",
        keys.stream(room),
        `(${afterId}-0`,
        "+",
        "COUNT",
        limit,
      ]);
      return toMessages(room, entries);
    },
    async before(room, beforeId, limit) {
      if (limit <= 0 || beforeId <= 1) return [];
      const entries = await redis.run([
        "XREVRANGE",
        keys.stream(room),
        `(${beforeId}-0`,
        "-",
        "COUNT",
        limit,
      ]);
      return toMessages(room, entries).reverse();
    },
    async bounds(room): Promise<RoomBounds> {
      const reply = await BOUNDS.run(
        redis,
        [keys.stream(room), keys.seq(room), keys.epoch(room)],
        [newEpoch(), UNBEGUN_EPOCH_TTL_MS],
      );
      if (!Array.isArray(reply) || typeof reply[2] !== "string") {
        throw new StoreError(`Redis returned bad bounds for ${room}`);
      }
      return {
        first: toMessages(room, reply[0])[0]?.id ?? 0,
        last: toCount(reply[1], "last id"),
        epoch: reply[2],
      };
    },
    async recent(limit) {
      if (limit <= 0) return [];
      const reply = await redis.run([
        "ZREVRANGE",
        keys.recent,
        0,
        limit - 1,
        "WITHSCORES",
      ]);
      return toRecentRooms(reply);
    },
    async remove(room, id) {
      if (writer) {
        const removed = await REMOVE.run(redis, [keys.stream(room)], [
          writer.context(new Date()),
          id,
          room,
        ]);
        writer.wrote();
        return removed === 1;
      }
      const removed = await redis.run(["XDEL", keys.stream(room), `${id}-0`]);
      // Its edit and reactions go with it.
      await redis.run(["HDEL", notes.edits(room), `${id}:m`, `${id}:e`]);
      await redis.run(["HDEL", notes.reactions(room), String(id)]);
      return removed === 1;
    },
    async positions(rooms) {
      if (rooms.length === 0) return [];
      const values = await redis.run([
        "MGET",
        ...rooms.map(keys.seq),
        ...rooms.map(keys.epoch),
      ]);
      return toPositions(values, rooms.length);
    },
    async expire(before) {
      const removed = await EXPIRE.run(redis, [], [KEY_PREFIX, before]);
      return toCount(removed, "count of expired messages");
    },
  };

  const conversation = openRedisConversation(redis, messageLog, {
    prefix: KEY_PREFIX,
    stream: keys.stream,
  });
  const messages = annotated(messageLog, conversation);
  const presence = openRedisPresence({
    redis,
    prefix: KEY_PREFIX,
    ttlMs: options.presenceTtlMs,
    ...(writer ? { outbox: writer } : {}),
  });

  return {
    messages,
    presence,
    ...(writer ? { outbox: openRedisOutbox(redis, KEY_PREFIX, writer) } : {}),
    conversation,
    moderation: openRedisModeration(redis, {
      prefix: KEY_PREFIX,
      ...(writer ? { outbox: writer } : {}),
    }),
    async ping() {
      // A write, as an append is: Redis refuses it when out of memory.
      await redis.run([
        "SET",
        keys.health,
        new Date().toISOString(),
        "PX",
        60_000,
      ]);
    },
    close: () => redis.close(),
  };
}

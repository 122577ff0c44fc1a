/**
 * The {@linkcode Store} in Redis, for several server processes (or
 * machines) sharing rooms. Each room's messages are one stream whose entry
 * ids are the message ids (`<id>-0`); the next id is taken from the room's
 * counter in the same Lua script that writes the entry, so two processes
 * never hand out the same id and ids grow by one without gaps. Presence is
 * in `redis_presence.ts`.
 *
 * Keys, under the prefix `chat:`: `seq:<room>` (the last id), `msgs:<room>`
 * (the stream, trimmed with `MAXLEN ~ CHAT_HISTORY_MAX`), `cids:<room>`
 * (client ids of the recent messages, for idempotent sends), `rooms` (the
 * rooms holding messages, for `CHAT_MAX_ROOMS`), `health` (the health
 * probe's write).
 *
 * @module
 */

import { RedisConnection, RedisScript } from "./redis_connection.ts";
import { openRedisPresence } from "./redis_presence.ts";
import type { RoomName } from "./room_name.ts";
import {
  type AppendResult,
  type ChatMessage,
  type MessageStore,
  type RoomBounds,
  type Store,
  StoreError,
} from "./store.ts";
import { type Logger, silentLogger } from "../log.ts";

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
  /** @default silentLogger */
  readonly log?: Logger;
}

const keys = {
  seq: (room: string) => `${KEY_PREFIX}seq:${room}`,
  stream: (room: string) => `${KEY_PREFIX}msgs:${room}`,
  cids: (room: string) => `${KEY_PREFIX}cids:${room}`,
  rooms: `${KEY_PREFIX}rooms`,
  health: `${KEY_PREFIX}health`,
};

/**
 * Appends a message: KEYS seq, stream, cids, rooms; ARGV room, user,
 * message, ts, cid ('' for none), dedupe window, history max, max rooms,
 * author ('' for a guest).
 * Returns {1, id, fields} for a repeated cid, {0, id} for a new message.
 */
const APPEND = new RedisScript(`
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local cid = ARGV[5]
local window = tonumber(ARGV[6])
if cid ~= '' then
  local earlier = redis.call('ZSCORE', KEYS[3], cid)
  if earlier and tonumber(earlier) > last - window then
    local found = redis.call('XRANGE', KEYS[2], earlier .. '-0', earlier .. '-0')
    if #found > 0 then return {1, tonumber(earlier), found[1][2]} end
  end
end
if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 then
  if redis.call('SCARD', KEYS[4]) >= tonumber(ARGV[8]) then
    return redis.error_reply('CHAT_LIMIT the server keeps messages of at most ' .. ARGV[8] .. ' rooms (CHAT_MAX_ROOMS)')
  end
  redis.call('SADD', KEYS[4], ARGV[1])
end
local id = redis.call('INCR', KEYS[1])
local fields = {'user', ARGV[2], 'message', ARGV[3], 'ts', ARGV[4]}
if cid ~= '' then
  table.insert(fields, 'cid')
  table.insert(fields, cid)
  redis.call('ZADD', KEYS[3], id, cid)
end
if ARGV[9] ~= '' then
  table.insert(fields, 'author')
  table.insert(fields, ARGV[9])
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], id .. '-0', unpack(fields))
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', id - window)
return {0, id}
`);

/**
 * Deletes messages older than ARGV[2] (ISO-8601) in every room and forgets
 * rooms left with no message and nobody online; ARGV[1] is the key prefix.
 * Returns how many messages went.
 */
const EXPIRE = new RedisScript(`
local prefix, before = ARGV[1], ARGV[2]
local removed = 0
local function ts_of(fields)
  for i = 1, #fields, 2 do
    if fields[i] == 'ts' then return fields[i + 1] end
  end
  return ''
end
for _, room in ipairs(redis.call('SMEMBERS', prefix .. 'rooms')) do
  local stream = prefix .. 'msgs:' .. room
  while true do
    local batch = redis.call('XRANGE', stream, '-', '+', 'COUNT', 200)
    if #batch == 0 then break end
    local keep = nil
    for _, entry in ipairs(batch) do
      if ts_of(entry[2]) >= before then keep = entry[1] break end
    end
    if keep then
      removed = removed + redis.call('XTRIM', stream, 'MINID', keep)
      break
    end
    local newest = tonumber(string.match(batch[#batch][1], '^(%d+)'))
    removed = removed + redis.call('XTRIM', stream, 'MINID', (newest + 1) .. '-0')
  end
  if redis.call('XLEN', stream) == 0
    and redis.call('ZCARD', prefix .. 'names:' .. room) == 0 then
    redis.call('DEL', stream, prefix .. 'seq:' .. room, prefix .. 'cids:' .. room)
    redis.call('SREM', prefix .. 'rooms', room)
  end
end
return removed
`);

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
 * Connects to Redis and returns the store; rejects with a one-line
 * {@linkcode StoreError} when Redis cannot be reached.
 */
export async function openRedisStore(
  options: RedisStoreOptions,
): Promise<Store> {
  const log = options.log ?? silentLogger;
  const redis = await RedisConnection.open(options.url, "store", log);

  const messages: MessageStore = {
    async append(room, message): Promise<AppendResult> {
      const reply = await APPEND.run(
        redis,
        [keys.seq(room), keys.stream(room), keys.cids(room), keys.rooms],
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
        ],
      );
      if (!Array.isArray(reply) || typeof reply[1] !== "number") {
        throw new StoreError(`Redis returned a bad append reply for ${room}`);
      }
      const id = reply[1];
      if (reply[0] === 1) {
        return {
          message: messageFromFields(room, id, reply[2]),
          duplicate: true,
        };
      }
      return { message: { id, room, ...message }, duplicate: false };
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
      const [firstEntries, last] = await Promise.all([
        redis.run(["XRANGE", keys.stream(room), "-", "+", "COUNT", 1]),
        redis.run(["GET", keys.seq(room)]),
      ]);
      const first = toMessages(room, firstEntries)[0]?.id ?? 0;
      return { first, last: toCount(last, "last id") };
    },
    async remove(room, id) {
      const removed = await redis.run(["XDEL", keys.stream(room), `${id}-0`]);
      return removed === 1;
    },
    async lastIds(rooms) {
      if (rooms.length === 0) return [];
      const values = await redis.run(["MGET", ...rooms.map(keys.seq)]);
      if (!Array.isArray(values)) {
        throw new StoreError("Redis returned no list for MGET");
      }
      return values.map((value) => toCount(value, "last id"));
    },
    async expire(before) {
      const removed = await EXPIRE.run(redis, [], [KEY_PREFIX, before]);
      return toCount(removed, "count of expired messages");
    },
  };

  const presence = openRedisPresence({
    redis,
    prefix: KEY_PREFIX,
    ttlMs: options.presenceTtlMs,
  });

  return {
    messages,
    presence,
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

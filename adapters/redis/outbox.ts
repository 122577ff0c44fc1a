/**
 * The webhook outbox in Redis. The Lua scripts that store a message or
 * change presence write its event in the same script (atomic on the
 * server) with {@linkcode OUTBOX_LUA}'s `wh_write`: each room's events are
 * a stream `wh:events:<room>` whose entry ids are a global sequence
 * (`wh:seq`), `wh:rooms` holds each room with events and its newest, and
 * each receiver has its place per room (`wh:delivered:<r>`), its failed
 * attempts (`wh:attempts:<r>`), the lease holder (`wh:lease:<r>`) and a
 * sorted set of rooms by when they are next due (`wh:due:<r>`: 0 for new
 * events, the retry time after a failure, the lease's end while leased), so
 * a claim reads only rooms that are due.
 *
 * @module
 */

import { type RedisConnection, RedisScript } from "./connection.ts";
import {
  type OutboxClaim,
  type OutboxEvent,
  type OutboxRoom,
  parseOutboxRoom,
  type WebhookOutbox,
  WriteSignal,
} from "../../chat/outbox.ts";
import { StoreError } from "../../chat/store.ts";

/**
 * Lua functions the writing scripts include. `wh` is the context JSON that
 * {@linkcode RedisOutboxWriter.context} makes: `p` the key prefix, `r` the
 * receivers, `n` a random part of event ids, `ts` and `at` the time.
 */
export const OUTBOX_LUA = `
local function wh_write(wh, room, etype, data)
  local p = wh.p
  local seq = redis.call('INCR', p .. 'wh:seq')
  local id = 'evt_' .. wh.n .. string.format('%016x', seq)
  local body = '{"type":"' .. etype .. '","id":"' .. id .. '","room":' ..
    cjson.encode(room) .. ',"ts":"' .. wh.ts .. '","data":' .. data .. '}'
  redis.call('XADD', p .. 'wh:events:' .. room, seq .. '-0',
    'id', id, 'at', wh.at, 'body', body)
  redis.call('ZADD', p .. 'wh:rooms', seq, room)
  for _, r in ipairs(wh.r) do
    redis.call('ZADD', p .. 'wh:due:' .. r, 'NX', 0, room)
  end
end

local function wh_member(name, owner, from)
  local data = '{"name":' .. cjson.encode(name)
  if from then data = data .. ',"from":' .. cjson.encode(from) end
  if owner and string.sub(owner, 1, 7) == 'signed:' then
    return data .. ',"verified":true,"sub":' ..
      cjson.encode(string.sub(owner, 8)) .. '}'
  end
  return data .. ',"verified":false}'
end
`;

/** ARGV p, r, owner, now, lease ms, limit. Returns {room, attempts, …}. */
const CLAIM = new RedisScript(`
local p, r, owner = ARGV[1], ARGV[2], ARGV[3]
local now, lease = tonumber(ARGV[4]), tonumber(ARGV[5])
local due = p .. 'wh:due:' .. r
local out = {}
for _, room in ipairs(redis.call('ZRANGEBYSCORE', due, '-inf', now,
    'LIMIT', 0, tonumber(ARGV[6]))) do
  redis.call('ZADD', due, now + lease, room)
  redis.call('HSET', p .. 'wh:lease:' .. r, room, owner)
  table.insert(out, room)
  table.insert(out, redis.call('HGET', p .. 'wh:attempts:' .. r, room) or '0')
end
return out
`);

/** ARGV p, r, room, limit. Returns the stream entries after the place. */
const NEXT = new RedisScript(`
local p, r, room = ARGV[1], ARGV[2], ARGV[3]
local done = redis.call('HGET', p .. 'wh:delivered:' .. r, room) or '0'
return redis.call('XRANGE', p .. 'wh:events:' .. room, '(' .. done .. '-0',
  '+', 'COUNT', tonumber(ARGV[4]))
`);

/**
 * How the scripts that act under a lease begin: ARGV p, r, room, owner;
 * they return 0 unless `owner` holds the lease of `room` for `r`.
 */
const LEASED = `
local p, r, room, owner = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('HGET', p .. 'wh:lease:' .. r, room) ~= owner then return 0 end`;

/** ARGV p, r, room, owner, seq, lease until. Returns 1 while leased. */
const DELIVERED = new RedisScript(`${LEASED}
local seq = tonumber(ARGV[5])
local done = tonumber(redis.call('HGET', p .. 'wh:delivered:' .. r, room) or '0')
if seq > done then redis.call('HSET', p .. 'wh:delivered:' .. r, room, seq) end
redis.call('HDEL', p .. 'wh:attempts:' .. r, room)
redis.call('ZADD', p .. 'wh:due:' .. r, tonumber(ARGV[6]), room)
return 1
`);

/** ARGV p, r, room, owner, retry at. */
const FAILED = new RedisScript(`${LEASED}
redis.call('HINCRBY', p .. 'wh:attempts:' .. r, room, 1)
redis.call('HDEL', p .. 'wh:lease:' .. r, room)
redis.call('ZADD', p .. 'wh:due:' .. r, tonumber(ARGV[5]), room)
return 1
`);

/**
 * ARGV p, r, room, owner. Ends the lease; the room stays due when events
 * came after the place (even while the sender was finishing).
 */
const RELEASE = new RedisScript(`${LEASED}
redis.call('HDEL', p .. 'wh:lease:' .. r, room)
local newest = tonumber(redis.call('ZSCORE', p .. 'wh:rooms', room) or '0')
local done = tonumber(redis.call('HGET', p .. 'wh:delivered:' .. r, room) or '0')
if newest > done then
  redis.call('ZADD', p .. 'wh:due:' .. r, 0, room)
else
  redis.call('ZREM', p .. 'wh:due:' .. r, room)
end
return 1
`);

/**
 * ARGV p, receivers (JSON), max events, cut-off (ms). Deletes what every
 * receiver has, then events older than the cut-off, then, past the
 * maximum, whole rooms' oldest events, rooms with the oldest first.
 * Returns {dropped, pending, oldest at or -1}.
 */
const TRIM = new RedisScript(`
local p = ARGV[1]
local receivers = cjson.decode(ARGV[2])
local max, cutoff = tonumber(ARGV[3]), tonumber(ARGV[4])
local dropped, total = 0, 0
local function seq_of(id) return tonumber(string.match(id, '^(%d+)')) end
local function forget(room)
  redis.call('DEL', p .. 'wh:events:' .. room)
  redis.call('ZREM', p .. 'wh:rooms', room)
  for _, r in ipairs(receivers) do
    redis.call('HDEL', p .. 'wh:delivered:' .. r, room)
    redis.call('HDEL', p .. 'wh:attempts:' .. r, room)
  end
end
local firsts = {}
for _, room in ipairs(redis.call('ZRANGE', p .. 'wh:rooms', 0, -1)) do
  local stream = p .. 'wh:events:' .. room
  local upto = nil
  for _, r in ipairs(receivers) do
    local done = tonumber(redis.call('HGET', p .. 'wh:delivered:' .. r, room) or '0')
    if upto == nil or done < upto then upto = done end
  end
  if upto and upto > 0 then
    redis.call('XTRIM', stream, 'MINID', (upto + 1) .. '-0')
  end
  while true do
    local batch = redis.call('XRANGE', stream, '-', '+', 'COUNT', 100)
    if #batch == 0 then break end
    local keep = nil
    for _, entry in ipairs(batch) do
      if tonumber(entry[2][4]) >= cutoff then keep = entry[1] break end
    end
    if keep then
      dropped = dropped + redis.call('XTRIM', stream, 'MINID', keep)
      break
    end
    dropped = dropped + redis.call('XTRIM', stream, 'MINID',
      (seq_of(batch[#batch][1]) + 1) .. '-0')
  end
  local n = redis.call('XLEN', stream)
  if n == 0 then
    forget(room)
  else
    total = total + n
    local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
    table.insert(firsts, {seq_of(first[1]), room, tonumber(first[2][4]), n})
  end
end
table.sort(firsts, function(a, b) return a[1] < b[1] end)
local oldest = -1
for _, f in ipairs(firsts) do
  local excess = total - max
  if excess > 0 then
    local stream = p .. 'wh:events:' .. f[2]
    local take = math.min(excess, f[4])
    local batch = redis.call('XRANGE', stream, '-', '+', 'COUNT', take)
    redis.call('XTRIM', stream, 'MINID', (seq_of(batch[#batch][1]) + 1) .. '-0')
    dropped = dropped + take
    total = total - take
    if take == f[4] then forget(f[2]) elseif oldest < 0 then
      oldest = tonumber(redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1][2][4])
    end
  elseif oldest < 0 or f[3] < oldest then
    oldest = f[3]
  end
end
return {dropped, total, oldest}
`);

/** Makes the context of the writing scripts and wakes the sender after. */
export class RedisOutboxWriter {
  readonly #prefix: string;
  readonly #receivers: readonly string[];
  readonly #signal = new WriteSignal();

  constructor(prefix: string, receivers: readonly string[]) {
    this.#prefix = prefix;
    this.#receivers = receivers;
  }

  /** The `wh` argument of a writing script, for events at `at`. */
  context(at: Date): string {
    return JSON.stringify({
      p: this.#prefix,
      r: this.#receivers,
      n: crypto.randomUUID().replaceAll("-", "").slice(0, 16),
      ts: at.toISOString(),
      at: at.getTime(),
    });
  }

  /** After a script that may have written events: wakes the listeners. */
  wrote(): void {
    this.#signal.wrote();
  }

  onWrite(listener: () => void): () => void {
    return this.#signal.onWrite(listener);
  }
}

/**
 * A message frame's JSON cut where its id goes, for a script that learns
 * the id only as it stores the message: `head + id + tail`.
 */
export function splitAtId(frameJson: string): { head: string; tail: string } {
  const head = '{"type":"message","id":';
  if (!frameJson.startsWith(`${head}0,`)) {
    throw new StoreError("A message frame does not begin with its id");
  }
  return { head, tail: frameJson.slice(head.length + 1) };
}

function roomOf(text: unknown): OutboxRoom {
  const room = parseOutboxRoom(typeof text === "string" ? text : "");
  if (room !== undefined) return room;
  throw new StoreError("Redis holds an invalid room in the webhook outbox");
}

function toEvent(room: OutboxRoom, entry: unknown): OutboxEvent {
  if (Array.isArray(entry) && entry.length === 2) {
    const [rawId, fields] = entry;
    if (
      typeof rawId === "string" && Array.isArray(fields) &&
      fields[0] === "id" && typeof fields[1] === "string" &&
      fields[2] === "at" && fields[4] === "body" &&
      typeof fields[5] === "string"
    ) {
      const seq = Number(rawId.split("-")[0]);
      const at = Number(fields[3]);
      if (Number.isSafeInteger(seq) && Number.isFinite(at)) {
        return { seq, id: fields[1], room, at, body: fields[5] };
      }
    }
  }
  throw new StoreError(`Redis returned a malformed webhook event in ${room}`);
}

function toNumber(value: unknown, what: string): number {
  const number = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(number)) {
    throw new StoreError(`Redis returned a bad ${what}: ${String(value)}`);
  }
  return number;
}

/** The outbox on `redis`, its writes announced by `writer`. */
export function openRedisOutbox(
  redis: RedisConnection,
  prefix: string,
  writer: RedisOutboxWriter,
): WebhookOutbox {
  return {
    async claim(receiver, owner, now, leaseMs, limit) {
      const reply = await CLAIM.run(redis, [], [
        prefix,
        receiver,
        owner,
        now,
        leaseMs,
        limit,
      ]);
      if (!Array.isArray(reply) || reply.length % 2 !== 0) {
        throw new StoreError("Redis returned a malformed webhook claim");
      }
      const claims: OutboxClaim[] = [];
      for (let index = 0; index < reply.length; index += 2) {
        claims.push({
          room: roomOf(reply[index]),
          attempts: toNumber(reply[index + 1], "attempt count"),
        });
      }
      return claims;
    },
    async next(receiver, room, limit) {
      const reply = await NEXT.run(redis, [], [prefix, receiver, room, limit]);
      if (!Array.isArray(reply)) {
        throw new StoreError("Redis returned no list of webhook events");
      }
      return reply.map((entry) => toEvent(room, entry));
    },
    async delivered(receiver, room, owner, seq, leaseUntil) {
      const reply = await DELIVERED.run(redis, [], [
        prefix,
        receiver,
        room,
        owner,
        seq,
        leaseUntil,
      ]);
      return reply === 1;
    },
    async failed(receiver, room, owner, retryAt) {
      await FAILED.run(redis, [], [prefix, receiver, room, owner, retryAt]);
    },
    async release(receiver, room, owner) {
      await RELEASE.run(redis, [], [prefix, receiver, room, owner]);
    },
    async trim(receivers, { maxEvents, maxAgeMs, now }) {
      const reply = await TRIM.run(redis, [], [
        prefix,
        JSON.stringify(receivers),
        maxEvents,
        Math.max(0, now - maxAgeMs),
      ]);
      if (!Array.isArray(reply) || reply.length !== 3) {
        throw new StoreError("Redis returned a malformed webhook trim");
      }
      const oldest = toNumber(reply[2], "oldest event time");
      return {
        dropped: toNumber(reply[0], "count of dropped events"),
        backlog: {
          pending: toNumber(reply[1], "count of pending events"),
          oldestAt: oldest < 0 ? undefined : oldest,
        },
      };
    },
    onWrite: (listener) => writer.onWrite(listener),
  };
}

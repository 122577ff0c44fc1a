/**
 * The Lua scripts of the Redis store (redis_store.ts), each one atomic on
 * the server: an append that takes the room's next id and its epoch, a
 * read of a room's bounds, and the expiry of old messages.
 *
 * @module
 */

import { RedisScript } from "./connection.ts";
import { OUTBOX_LUA } from "./outbox.ts";

/**
 * Appends a message: KEYS seq, stream, cids, rooms, epoch, recent; ARGV
 * room, user, message, ts, cid ('' for none), dedupe window, history max,
 * max rooms, author ('' for a guest), a new epoch in case the log begins
 * here, owner ('' for none), ts in ms (the room's score in recent), and for
 * webhooks ('' when off) the outbox context and the message frame's JSON
 * before and after its id: the new message's events are written with it
 * (`room.created` too when it is the log's first).
 * Returns {1, id, epoch, fields} for a repeated cid, {0, id, epoch} for a
 * new message. A log without a counter begins under the epoch a reader made
 * for it (an expiring one), else under the new one; so does a log without
 * an epoch (written before epochs, or its key lost).
 */
export const APPEND = new RedisScript(`${OUTBOX_LUA}
local counted = redis.call('GET', KEYS[1])
local last = tonumber(counted or '0')
local cid = ARGV[5]
local window = tonumber(ARGV[6])
if cid ~= '' then
  local earlier = redis.call('ZSCORE', KEYS[3], cid)
  if earlier and tonumber(earlier) > last - window then
    local found = redis.call('XRANGE', KEYS[2], earlier .. '-0', earlier .. '-0')
    if #found > 0 then
      return {1, tonumber(earlier), redis.call('GET', KEYS[5]) or '', found[1][2]}
    end
  end
end
if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 then
  if redis.call('SCARD', KEYS[4]) >= tonumber(ARGV[8]) then
    return redis.error_reply('CHAT_LIMIT the server keeps messages of at most ' .. ARGV[8] .. ' rooms (CHAT_MAX_ROOMS)')
  end
  redis.call('SADD', KEYS[4], ARGV[1])
end
local epoch = redis.call('GET', KEYS[5])
if not counted and epoch and redis.call('PTTL', KEYS[5]) < 0 then
  epoch = false -- the epoch of a log that was lost with its counter
end
if not epoch then
  epoch = ARGV[10]
  redis.call('SET', KEYS[5], epoch)
elseif not counted then
  redis.call('PERSIST', KEYS[5])
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
if ARGV[11] ~= '' then
  table.insert(fields, 'owner')
  table.insert(fields, ARGV[11])
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], id .. '-0', unpack(fields))
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', id - window)
redis.call('ZADD', KEYS[6], 'GT', ARGV[12], ARGV[1])
if ARGV[13] ~= '' then
  local wh = cjson.decode(ARGV[13])
  local frame = ARGV[14] .. id .. ARGV[15]
  if id == 1 then wh_write(wh, ARGV[1], 'room.created', frame) end
  wh_write(wh, ARGV[1], 'message.created', frame)
end
return {0, id, epoch}
`);

/**
 * Deletes message ARGV[2] from stream KEYS[1] and writes its
 * `message.deleted` event with outbox context ARGV[1]. Returns 1 when it
 * was there.
 */
export const REMOVE = new RedisScript(`${OUTBOX_LUA}
local removed = redis.call('XDEL', KEYS[1], ARGV[2] .. '-0')
if removed == 1 then
  local wh = cjson.decode(ARGV[1])
  wh_write(wh, ARGV[3], 'message.deleted', '{"id":' .. ARGV[2] .. '}')
end
return removed
`);

/**
 * A room's bounds: KEYS stream, seq, epoch; ARGV a new epoch, how long (ms)
 * an epoch made for a log not begun yet lasts. Returns {first entry (a
 * list of at most one), last id, epoch}. A log without an epoch gets one:
 * for good when it has a counter (written before epochs), else expiring
 * unless a message begins the log under it.
 */
export const BOUNDS = new RedisScript(`
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local last = redis.call('GET', KEYS[2])
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[1]
  if last then
    redis.call('SET', KEYS[3], epoch)
  else
    redis.call('SET', KEYS[3], epoch, 'PX', ARGV[2])
  end
end
return {first, last or '0', epoch}
`);

/**
 * How long the epoch made for a log not begun yet lasts: a client that saw
 * it and nothing else loses nothing when it is another one later.
 */
export const UNBEGUN_EPOCH_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes messages older than ARGV[2] (ISO-8601) in every room, takes rooms
 * left with no message out of `recent`, and forgets those with nobody online
 * either; ARGV[1] is the key prefix.
 * Returns how many messages went.
 */
export const EXPIRE = new RedisScript(`
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
  if redis.call('XLEN', stream) == 0 then
    redis.call('ZREM', prefix .. 'recent', room)
  end
  if redis.call('XLEN', stream) == 0
    and redis.call('ZCARD', prefix .. 'names:' .. room) == 0 then
    redis.call('DEL', stream, prefix .. 'seq:' .. room, prefix .. 'cids:' .. room,
      prefix .. 'epoch:' .. room, prefix .. 'edits:' .. room,
      prefix .. 'reacts:' .. room)
    redis.call('SREM', prefix .. 'rooms', room)
  end
end
return removed
`);

/**
 * The Lua scripts of the Redis store (redis_store.ts), each one atomic on
 * the server: an append that takes the room's next id and its epoch, a
 * read of a room's bounds, and the expiry of old messages.
 *
 * @module
 */

import { RedisScript } from "./connection.ts";

/**
 * Appends a message: KEYS seq, stream, cids, rooms, epoch; ARGV room, user,
 * message, ts, cid ('' for none), dedupe window, history max, max rooms,
 * author ('' for a guest), a new epoch in case the log begins here, owner
 * ('' for none).
 * Returns {1, id, epoch, fields} for a repeated cid, {0, id, epoch} for a
 * new message. A log without a counter begins under the epoch a reader made
 * for it (an expiring one), else under the new one; so does a log without
 * an epoch (written before epochs, or its key lost).
 */
export const APPEND = new RedisScript(`
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
return {0, id, epoch}
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
 * Deletes messages older than ARGV[2] (ISO-8601) in every room and forgets
 * rooms left with no message and nobody online; ARGV[1] is the key prefix.
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

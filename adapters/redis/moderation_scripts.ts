/**
 * The Lua scripts of the Redis moderation store (moderation.ts), each
 * atomic on the server: a sanction stored or lifted with its audit entry
 * and its webhook event, an audit entry with its event, an address added,
 * the ended ones purged, and the reads. Keys are made from the prefix `p`
 * (ARGV[1]) as in `outbox.ts`: `mod:s:<id>` a sanction's JSON,
 * `mod:a:<id>` its guest addresses, `mod:all` every sanction by its end
 * (`inf` for good), `mod:o:<owner>` and `mod:ip:<address>` the sanctions
 * of an owner and of an address by their end, `mod:audit` the audit log (a
 * stream whose entry ids are the audit ids, from `mod:audit:seq`),
 * `mod:audit:room:<room>` a room's audit ids.
 *
 * @module
 */

import { RedisScript } from "./connection.ts";
import { OUTBOX_LUA } from "./outbox.ts";

/**
 * Lua functions the scripts share: `mod_expire` lets an index key expire a
 * grace after its last sanction ends, `mod_drop` forgets a sanction and
 * its index entries, `mod_audit` appends to the bounded audit log,
 * `mod_audit_event` does that and writes the webhook event from the
 * script's arguments, and `mod_read` reads a sanction with its addresses.
 */
const MODERATION_LUA = `${OUTBOX_LUA}
local function mod_expire(key, grace)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if #top == 0 then return end
  if top[2] == 'inf' then
    redis.call('PERSIST', key)
  else
    redis.call('PEXPIREAT', key, string.format('%.0f', tonumber(top[2]) + grace))
  end
end

local function mod_drop(p, id, grace)
  local record = redis.call('GET', p .. 'mod:s:' .. id)
  if record then
    local owner = cjson.decode(record).target.owner
    if type(owner) == 'string' then
      redis.call('ZREM', p .. 'mod:o:' .. owner, id)
      mod_expire(p .. 'mod:o:' .. owner, grace)
    end
  end
  for _, address in ipairs(redis.call('SMEMBERS', p .. 'mod:a:' .. id)) do
    redis.call('ZREM', p .. 'mod:ip:' .. address, id)
    mod_expire(p .. 'mod:ip:' .. address, grace)
  end
  redis.call('DEL', p .. 'mod:s:' .. id, p .. 'mod:a:' .. id)
  redis.call('ZREM', p .. 'mod:all', id)
end

local function mod_audit(p, body, room, max)
  local log = p .. 'mod:audit'
  local id = redis.call('INCR', log .. ':seq')
  redis.call('XADD', log, id .. '-0', 'room', room, 'body', body)
  if room ~= '' then redis.call('ZADD', log .. ':room:' .. room, id, id) end
  while redis.call('XLEN', log) > max do
    local oldest = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)[1]
    local gone = oldest[2][2]
    if gone ~= '' then
      redis.call('ZREM', log .. ':room:' .. gone,
        string.match(oldest[1], '^(%d+)'))
    end
    redis.call('XDEL', log, oldest[1])
  end
  return id
end

-- The audit entry and webhook event whose seven ARGV start at \`at\`: the
-- entry's JSON, its room, the log's bound, the webhook context ('' for no
-- event), the event's type, its data JSON and its room. Returns the
-- entry's id.
local function mod_audit_event(p, at)
  local id = mod_audit(p, ARGV[at], ARGV[at + 1], tonumber(ARGV[at + 2]))
  if ARGV[at + 3] ~= '' then
    wh_write(cjson.decode(ARGV[at + 3]), ARGV[at + 6], ARGV[at + 4],
      ARGV[at + 5])
  end
  return id
end

local function mod_in_force(score, now)
  return score and (score == 'inf' or tonumber(score) > now)
end

local function mod_read(p, id, out)
  local record = redis.call('GET', p .. 'mod:s:' .. id)
  if not record then return end
  table.insert(out, record)
  table.insert(out, redis.call('SMEMBERS', p .. 'mod:a:' .. id))
end
`;

/**
 * Stores a sanction: ARGV p, id, its JSON, its end ('inf' or ms), owner
 * ('' for none), grace ms, the audit entry's JSON, its room ('' for every
 * room), the audit log's bound, the webhook context ('' when off), the
 * event's type, its data JSON, its room, then the addresses.
 * Fails when a sanction by that id exists.
 */
export const IMPOSE = new RedisScript(`${MODERATION_LUA}
local p, id, score, owner = ARGV[1], ARGV[2], ARGV[4], ARGV[5]
local grace = tonumber(ARGV[6])
local key = p .. 'mod:s:' .. id
if redis.call('EXISTS', key) == 1 then
  return redis.error_reply('CHAT_CONFLICT a sanction ' .. id .. ' exists')
end
redis.call('SET', key, ARGV[3])
redis.call('ZADD', p .. 'mod:all', score, id)
if owner ~= '' then
  redis.call('ZADD', p .. 'mod:o:' .. owner, score, id)
  mod_expire(p .. 'mod:o:' .. owner, grace)
end
for i = 14, #ARGV do
  redis.call('SADD', p .. 'mod:a:' .. id, ARGV[i])
  redis.call('ZADD', p .. 'mod:ip:' .. ARGV[i], score, id)
  mod_expire(p .. 'mod:ip:' .. ARGV[i], grace)
end
if score ~= 'inf' then
  local at = string.format('%.0f', tonumber(score) + grace)
  redis.call('PEXPIREAT', key, at)
  if #ARGV >= 14 then redis.call('PEXPIREAT', p .. 'mod:a:' .. id, at) end
end
mod_audit_event(p, 7)
return 1
`);

/**
 * Lifts a sanction still in force: ARGV p, id, now ms, grace ms, the audit
 * entry's JSON, its room, the audit log's bound, the webhook context ('' when
 * off), the event's type, data JSON and room. Returns 1, or 0
 * when none by that id is in force (nothing is written then).
 */
export const LIFT = new RedisScript(`${MODERATION_LUA}
local p, id = ARGV[1], ARGV[2]
local score = redis.call('ZSCORE', p .. 'mod:all', id)
if not mod_in_force(score, tonumber(ARGV[3])) then return 0 end
if redis.call('EXISTS', p .. 'mod:s:' .. id) == 0 then return 0 end
mod_drop(p, id, tonumber(ARGV[4]))
mod_audit_event(p, 5)
return 1
`);

/**
 * Adds a guest address to a sanction: ARGV p, id, address, most addresses,
 * grace ms. Does nothing when the sanction is gone or holds the most.
 */
export const ADD_ADDRESS = new RedisScript(`${MODERATION_LUA}
local p, id, address = ARGV[1], ARGV[2], ARGV[3]
local score = redis.call('ZSCORE', p .. 'mod:all', id)
if not score or redis.call('EXISTS', p .. 'mod:s:' .. id) == 0 then return 0 end
local set = p .. 'mod:a:' .. id
if redis.call('SCARD', set) >= tonumber(ARGV[4]) then return 0 end
if redis.call('SADD', set, address) == 0 then return 0 end
local ends = redis.call('PEXPIRETIME', p .. 'mod:s:' .. id)
if ends > 0 then redis.call('PEXPIREAT', set, ends) end
redis.call('ZADD', p .. 'mod:ip:' .. address, score, id)
mod_expire(p .. 'mod:ip:' .. address, tonumber(ARGV[5]))
return 1
`);

/**
 * The sanctions in force: ARGV p, now ms, and for one subject its owner
 * and address ('' for none); with neither, every one. Returns {JSON,
 * {addresses}, …}, each once.
 */
export const READ = new RedisScript(`${MODERATION_LUA}
local p, now = ARGV[1], ARGV[2]
local out, seen = {}, {}
local function from(key)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf')) do
    if not seen[id] then
      seen[id] = true
      mod_read(p, id, out)
    end
  end
end
if ARGV[3] == '' and ARGV[4] == '' then
  from(p .. 'mod:all')
else
  if ARGV[3] ~= '' then from(p .. 'mod:o:' .. ARGV[3]) end
  if ARGV[4] ~= '' then from(p .. 'mod:ip:' .. ARGV[4]) end
end
return out
`);

/**
 * One sanction in force: ARGV p, id, now ms. Returns {JSON, {addresses}}
 * or {}.
 */
export const READ_ONE = new RedisScript(`${MODERATION_LUA}
local p, id = ARGV[1], ARGV[2]
local out = {}
local score = redis.call('ZSCORE', p .. 'mod:all', id)
if mod_in_force(score, tonumber(ARGV[3])) then mod_read(p, id, out) end
return out
`);

/** Forgets the sanctions ended by ARGV now ms: ARGV p, now, grace ms. */
export const PURGE = new RedisScript(`${MODERATION_LUA}
local p = ARGV[1]
local ended = redis.call('ZRANGEBYSCORE', p .. 'mod:all', '-inf', ARGV[2])
for _, id in ipairs(ended) do mod_drop(p, id, tonumber(ARGV[3])) end
return #ended
`);

/**
 * Appends an audit entry: ARGV p, JSON, room ('' for every room), bound,
 * the webhook context ('' when off or no event), the event's type, its
 * data JSON and its room. Returns the entry's id.
 */
export const AUDIT = new RedisScript(`${MODERATION_LUA}
return mod_audit_event(ARGV[1], 2)
`);

/**
 * Audit entries newest first: ARGV p, room ('' for all), before ('' for
 * none), limit. Returns {id, JSON, …}.
 */
export const AUDIT_PAGE = new RedisScript(`
local log = ARGV[1] .. 'mod:audit'
local room, before, limit = ARGV[2], ARGV[3], tonumber(ARGV[4])
local out = {}
if room == '' then
  local top = '+'
  if before ~= '' then top = '(' .. before .. '-0' end
  for _, e in ipairs(redis.call('XREVRANGE', log, top, '-', 'COUNT', limit)) do
    table.insert(out, string.match(e[1], '^(%d+)'))
    table.insert(out, e[2][4])
  end
  return out
end
local top = '+inf'
if before ~= '' then top = '(' .. before end
local ids = redis.call('ZREVRANGEBYSCORE', log .. ':room:' .. room, top,
  '-inf', 'LIMIT', 0, limit)
for _, id in ipairs(ids) do
  local e = redis.call('XRANGE', log, id .. '-0', id .. '-0')[1]
  if e then
    table.insert(out, id)
    table.insert(out, e[2][4])
  end
end
return out
`);

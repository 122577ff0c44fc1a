/**
 * The Lua scripts of the Redis conversation store (conversation.ts), each
 * atomic on the server: an edit checked against the message's owner and
 * age, and a reaction toggled within the bound of distinct emoji, each
 * writing its webhook event in the same script when webhooks are on.
 *
 * @module
 */

import { RedisScript } from "./connection.ts";
import { OUTBOX_LUA } from "./outbox.ts";

/**
 * How many notes a room's hash gains between two sweeps of the notes of
 * messages the stream no longer holds (trimmed to CHAT_HISTORY_MAX, or
 * expired): each note costs its share of one sweep.
 */
export const NOTES_SWEEP_EVERY = 512;

/**
 * Lua: once the hash (KEYS[2]) has gained another NOTES_SWEEP_EVERY
 * fields, drops the fields of ids below the stream's (KEYS[1]) first.
 */
const SWEEP = `
local function sweep(added)
  local size = redis.call('HLEN', KEYS[2])
  if added == 0 or size % ${NOTES_SWEEP_EVERY} >= added then return end
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  local floor = math.huge
  if #first > 0 then floor = tonumber(string.match(first[1][1], '^(%d+)')) end
  local gone = {}
  for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
    local id = tonumber(string.match(field, '^(%d+)'))
    if id and id < floor then table.insert(gone, field) end
  end
  for i = 1, #gone, 500 do
    redis.call('HDEL', KEYS[2], unpack(gone, i, math.min(i + 499, #gone)))
  end
end
`;

/**
 * Edits a message: KEYS stream, edits; ARGV id, owner, message, edited,
 * the oldest ts allowed, then the outbox context ('' when webhooks are
 * off), the room and the `message.edited` event's data JSON. Returns 'ok'
 * or the refusal's code. The edit is the hash fields `<id>:m` (text) and
 * `<id>:e` (when).
 */
export const EDIT = new RedisScript(`${SWEEP}${OUTBOX_LUA}
local found = redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', ARGV[1] .. '-0')
if #found == 0 then return 'no_such_message' end
local fields = found[1][2]
local owner, ts = '', ''
for i = 1, #fields, 2 do
  if fields[i] == 'owner' then owner = fields[i + 1] end
  if fields[i] == 'ts' then ts = fields[i + 1] end
end
if owner == '' or owner ~= ARGV[2] then return 'not_owner' end
if ts < ARGV[5] then return 'edit_window_passed' end
sweep(redis.call('HSET', KEYS[2], ARGV[1] .. ':m', ARGV[3], ARGV[1] .. ':e', ARGV[4]))
if ARGV[6] ~= '' then
  wh_write(cjson.decode(ARGV[6]), ARGV[7], 'message.edited', ARGV[8])
end
return 'ok'
`);

/**
 * Lua: `reactions_json(list)`, the [emoji, owner, user] list of a message
 * as the JSON of its reactions, grouped by emoji in the order they came
 * (as `toReactions` in conversation.ts groups them).
 */
const REACTIONS_JSON = `
local function reactions_json(list)
  local order, users = {}, {}
  for _, r in ipairs(list) do
    if not users[r[1]] then
      users[r[1]] = {}
      table.insert(order, r[1])
    end
    table.insert(users[r[1]], r[3])
  end
  local parts = {}
  for _, emoji in ipairs(order) do
    table.insert(parts, '{"emoji":' .. cjson.encode(emoji) .. ',"count":' ..
      #users[emoji] .. ',"users":' .. cjson.encode(users[emoji]) .. '}')
  end
  return '[' .. table.concat(parts, ',') .. ']'
end
`;

/**
 * Toggles a reaction: KEYS stream, reactions; ARGV id, emoji, owner, user,
 * most distinct emoji, then the outbox context ('' when webhooks are off),
 * the room and the `message.reactions` event's data JSON without its
 * closing brace (the script adds `added` and `reactions`). The reactions
 * of a message are the hash field `<id>`, a JSON list of [emoji, owner,
 * user] in the order they came. Returns {'ok', list} or {code}.
 */
export const REACT = new RedisScript(`${SWEEP}${OUTBOX_LUA}${REACTIONS_JSON}
local found = redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', ARGV[1] .. '-0')
if #found == 0 then return {'no_such_message'} end
local raw = redis.call('HGET', KEYS[2], ARGV[1])
local list = {}
if raw then list = cjson.decode(raw) end
local emoji, owner, user = ARGV[2], ARGV[3], ARGV[4]
local kept, seen, distinct, removed = {}, {}, 0, false
for _, r in ipairs(list) do
  if r[1] == emoji and r[2] == owner then
    removed = true
  else
    table.insert(kept, r)
    if not seen[r[1]] then seen[r[1]] = true distinct = distinct + 1 end
  end
end
if not removed then
  if not seen[emoji] and distinct >= tonumber(ARGV[5]) then
    return {'too_many_reactions'}
  end
  table.insert(kept, {emoji, owner, user})
end
if ARGV[6] ~= '' then
  wh_write(cjson.decode(ARGV[6]), ARGV[7], 'message.reactions', ARGV[8] ..
    ',"added":' .. tostring(not removed) .. ',"reactions":' ..
    reactions_json(kept) .. '}')
end
if #kept == 0 then
  redis.call('HDEL', KEYS[2], ARGV[1])
  return {'ok', '[]'}
end
local encoded = cjson.encode(kept)
sweep(redis.call('HSET', KEYS[2], ARGV[1], encoded))
return {'ok', encoded}
`);

/**
 * The notes of messages, in one round trip: KEYS edits, reactions; ARGV
 * the ids. Returns {edit fields (text, when) per id, reactions per id}.
 * Read in slices: Lua unpacks a few thousand values at most.
 */
export const NOTES = new RedisScript(`
local edits, reactions = {}, {}
for start = 1, #ARGV, 500 do
  local last = math.min(start + 499, #ARGV)
  local fields = {}
  for i = start, last do
    table.insert(fields, ARGV[i] .. ':m')
    table.insert(fields, ARGV[i] .. ':e')
  end
  for _, value in ipairs(redis.call('HMGET', KEYS[1], unpack(fields))) do
    table.insert(edits, value)
  end
  for _, value in ipairs(redis.call('HMGET', KEYS[2], unpack(ARGV, start, last))) do
    table.insert(reactions, value)
  end
end
return {edits, reactions}
`);

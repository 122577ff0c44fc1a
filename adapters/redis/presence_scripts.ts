/**
 * The Lua scripts of the Redis presence store (presence.ts): each change
 * of presence runs as one of them, so counts stay consistent across
 * processes, and writes its webhook event in the same script.
 *
 * Keys under the prefix: `nodes` (node → expiry, ms), `node:<node>`
 * (`["room","user"]` → this node's connections), `online:<room>` (user →
 * connections over all nodes), `owner:<room>` (user → who holds the name),
 * `name-key:<room>` (user → its {@linkcode nameKey}), `key-owner:<room>`
 * and `key-names:<room>` (name key → who holds the names that look like
 * that, and how many such names are online: a name is taken when another
 * owner holds one that looks like it), `names:<room>` (the names online,
 * for paging in name order), `online-rooms` (room → names online).
 *
 * @module
 */

import { OUTBOX_LUA } from "./outbox.ts";
import { RedisScript } from "./connection.ts";

/**
 * Helpers every presence script starts with. ARGV[1] is always the key
 * prefix and ARGV[2] the TTL in ms; Redis's clock is the one every
 * process shares. A script's webhook context (`wh`, see outbox.ts) is ''
 * when webhooks are off.
 */
const COMMON = `${OUTBOX_LUA}
local P = ARGV[1]
local ttl = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local function add(room, user, owner, n, key)
  local total = redis.call('HINCRBY', P .. 'online:' .. room, user, n)
  if total == n then
    redis.call('HSET', P .. 'owner:' .. room, user, owner)
    redis.call('HSET', P .. 'name-key:' .. room, user, key)
    if redis.call('HINCRBY', P .. 'key-names:' .. room, key, 1) == 1 then
      redis.call('HSET', P .. 'key-owner:' .. room, key, owner)
    end
    redis.call('ZADD', P .. 'names:' .. room, 0, user)
    redis.call('HINCRBY', P .. 'online-rooms', room, 1)
  end
  return total == n
end

local function drop(room, user, n)
  local total = redis.call('HINCRBY', P .. 'online:' .. room, user, -n)
  if total > 0 then return false end
  redis.call('HDEL', P .. 'online:' .. room, user)
  redis.call('HDEL', P .. 'owner:' .. room, user)
  local key = redis.call('HGET', P .. 'name-key:' .. room, user)
  if key then
    redis.call('HDEL', P .. 'name-key:' .. room, user)
    if redis.call('HINCRBY', P .. 'key-names:' .. room, key, -1) <= 0 then
      redis.call('HDEL', P .. 'key-names:' .. room, key)
      redis.call('HDEL', P .. 'key-owner:' .. room, key)
    end
  end
  redis.call('ZREM', P .. 'names:' .. room, user)
  if redis.call('HINCRBY', P .. 'online-rooms', room, -1) <= 0 then
    redis.call('HDEL', P .. 'online-rooms', room)
  end
  return true
end

local function remove_node(node, gone, wh)
  local key = P .. 'node:' .. node
  local entries = redis.call('HGETALL', key)
  for i = 1, #entries, 2 do
    local where = cjson.decode(entries[i])
    local owner = redis.call('HGET', P .. 'owner:' .. where[1], where[2])
    if drop(where[1], where[2], tonumber(entries[i + 1])) then
      table.insert(gone, where[1])
      table.insert(gone, where[2])
      if wh ~= '' then
        wh_write(cjson.decode(wh), where[1], 'member.left',
          wh_member(where[2], owner))
      end
    end
  end
  redis.call('DEL', key)
  redis.call('ZREM', P .. 'nodes', node)
end
`;

/**
 * ARGV 3..9: room, user, node, owner, name key, webhook context, '1' when
 * the claim is a rename's (its event waits for the leave). Returns {taken,
 * first}.
 */
export const JOIN = new RedisScript(`${COMMON}
local room, user, node, owner, key = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local holder = redis.call('HGET', P .. 'key-owner:' .. room, key)
if holder and holder ~= owner then
  return {1, 0}
end
redis.call('HINCRBY', P .. 'node:' .. node, cjson.encode({room, user}), 1)
local first = add(room, user, owner, 1, key)
if first and ARGV[8] ~= '' and ARGV[9] ~= '1' then
  wh_write(cjson.decode(ARGV[8]), room, 'member.joined', wh_member(user, owner))
end
redis.call('ZADD', P .. 'nodes', now + ttl, node)
return {0, first and 1 or 0}
`);

/**
 * ARGV 3..7: room, user, node, webhook context, and for a rename ('' for
 * none) the JSON of {@linkcode RenameLeave}: the event of the rename (or
 * of its join or leave alone) is written here. Returns 1 when the name is
 * gone.
 */
export const LEAVE = new RedisScript(`${COMMON}
local room, user, node = ARGV[3], ARGV[4], ARGV[5]
local key = P .. 'node:' .. node
local field = cjson.encode({room, user})
local mine = tonumber(redis.call('HGET', key, field) or '0')
local owner = redis.call('HGET', P .. 'owner:' .. room, user)
local last, went = false, false
if mine <= 0 then
  -- Swept while stalled: nothing of this node is counted any more.
  last = redis.call('HEXISTS', P .. 'online:' .. room, user) == 0
else
  if mine == 1 then
    redis.call('HDEL', key, field)
  else
    redis.call('HINCRBY', key, field, -1)
  end
  last = drop(room, user, 1)
  went = last
end
if ARGV[6] ~= '' then
  local wh = cjson.decode(ARGV[6])
  if ARGV[7] ~= '' then
    local rename = cjson.decode(ARGV[7])
    if rename.joined and went then
      wh_write(wh, room, 'member.renamed', wh_member(rename.to, rename.owner, user))
    elseif rename.joined then
      wh_write(wh, room, 'member.joined', wh_member(rename.to, rename.owner))
    elseif went then
      wh_write(wh, room, 'member.left', wh_member(user, rename.owner))
    end
  elseif went then
    wh_write(wh, room, 'member.left', wh_member(user, owner))
  end
end
return last and 1 or 0
`);

/**
 * ARGV 3: node, ARGV 4: JSON list of [room, user, owner, connections, name
 * key]. Makes the node's counts exactly these and marks it fresh. A name
 * this node does not count yet, one like which another owner holds, is
 * left out: the node counts a claim before its answer comes
 * (chat/presence.ts), and a refused claim must not add to the holder's
 * connections.
 */
export const HEARTBEAT = new RedisScript(`${COMMON}
local node = ARGV[3]
local key = P .. 'node:' .. node
local old = {}
local stored = redis.call('HGETALL', key)
for i = 1, #stored, 2 do old[stored[i]] = tonumber(stored[i + 1]) end
local new, owners, keys = {}, {}, {}
for _, entry in ipairs(cjson.decode(ARGV[4])) do
  local field = cjson.encode({entry[1], entry[2]})
  local holder = redis.call('HGET', P .. 'key-owner:' .. entry[1], entry[5])
  if old[field] or not holder or holder == entry[3] then
    new[field] = (new[field] or 0) + entry[4]
    owners[field] = entry[3]
    keys[field] = entry[5]
  end
end
for field, n in pairs(new) do
  local delta = n - (old[field] or 0)
  local where = cjson.decode(field)
  if delta > 0 then
    add(where[1], where[2], owners[field], delta, keys[field])
  elseif delta < 0 then
    drop(where[1], where[2], -delta)
  end
end
for field, n in pairs(old) do
  if new[field] == nil then
    local where = cjson.decode(field)
    drop(where[1], where[2], n)
  end
end
redis.call('DEL', key)
for field, n in pairs(new) do redis.call('HSET', key, field, n) end
redis.call('ZADD', P .. 'nodes', now + ttl, node)
return 1
`);

/**
 * Removes every node whose expiry passed; returns {room, user, …} gone.
 * ARGV 3: webhook context.
 */
export const SWEEP = new RedisScript(`${COMMON}
local gone = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', now)) do
  remove_node(node, gone, ARGV[3])
end
return gone
`);

/** ARGV 3: node, 4: webhook context. Returns {room, user, …} gone with it. */
export const REMOVE_NODE = new RedisScript(`${COMMON}
local gone = {}
remove_node(ARGV[3], gone, ARGV[4])
return gone
`);

/**
 * ARGV 3..5: room, after ('' for the start), limit. Returns
 * {user, connections, verified ('1' or '0'), …} in name order.
 */
export const LIST = new RedisScript(`${COMMON}
local room, after, limit = ARGV[3], ARGV[4], tonumber(ARGV[5])
local from = after == '' and '-' or ('(' .. after)
local names = redis.call('ZRANGEBYLEX', P .. 'names:' .. room, from, '+', 'LIMIT', 0, limit)
local out = {}
for _, user in ipairs(names) do
  table.insert(out, user)
  table.insert(out, redis.call('HGET', P .. 'online:' .. room, user) or '0')
  local owner = redis.call('HGET', P .. 'owner:' .. room, user) or ''
  table.insert(out, string.sub(owner, 1, 7) == 'signed:' and '1' or '0')
end
return out
`);

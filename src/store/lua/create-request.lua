--[[
  Creates a request, unless its id is taken or its requester already has the maximum number of
  open requests. Counting and creating in one script means two submits at the limit cannot both
  pass. The account requests of one multi-account request (same `groupId` field) count as one
  request, and a further member of a group that already holds an open member is not refused (its
  request was admitted with its first member). Entries of the requester index whose request hash has expired are trimmed on the way.

  KEYS[1] request hash
  KEYS[2] requester index (sorted set: request id by createdAt)
  KEYS[3] state index of the new request's state
  KEYS[4] unreviewed break-glass index
  ARGV[1] request id
  ARGV[2] createdAt (ms; the index score)
  ARGV[3] maximum open requests of this requester, or '' for no limit
  ARGV[4] request key prefix (the hash of request I is prefix .. I): the requester's other
          requests, read to count the open ones. Which ones is known only inside, so they are not
          declared; they share the declared keys' hash tag (same Redis Cluster slot).
  ARGV[5] open states, space-separated with leading and trailing spaces
  ARGV[6] '1' when the request is break-glass
  ARGV[7..] field, value, field, value, … of the hash
  Returns {'ok'} or {'exists'} or {'limit', openCount}
]]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'exists'}
end
local group = nil
for i = 7, #ARGV, 2 do
  if ARGV[i] == 'groupId' then
    group = ARGV[i + 1]
  end
end
local open = 0
local groups = {}
local inOpenGroup = false
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, id in ipairs(ids) do
  local fields = redis.call('HMGET', ARGV[4] .. id, 'state', 'groupId')
  local state = fields[1]
  local gid = fields[2]
  if not state then
    redis.call('ZREM', KEYS[2], id)
  elseif string.find(ARGV[5], ' ' .. state .. ' ', 1, true) then
    if not gid then
      open = open + 1
    elseif not groups[gid] then
      groups[gid] = true
      open = open + 1
    end
    if group and gid == group then
      inOpenGroup = true
    end
  end
end
if ARGV[3] ~= '' and not inOpenGroup and open >= tonumber(ARGV[3]) then
  return {'limit', open}
end
local fields = {}
for i = 7, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
if ARGV[6] == '1' then
  redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
end
return {'ok'}

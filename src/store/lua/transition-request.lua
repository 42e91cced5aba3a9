--[[
  Compare-and-set on one access request: applies only if the request is in one of the allowed
  states (and, when given, at the expected version). Moves the state indexes and the expiry
  index with it, bumps the version. Two concurrent callers: exactly one wins.

  KEYS[1] request hash
  KEYS[2] expiry index (sorted set: request id by expiresAt)
  ARGV[1] allowed from-states, space-separated with leading and trailing spaces
  ARGV[2] target state
  ARGV[3] expected version, or ''
  ARGV[4] now (ms)
  ARGV[5] state index key prefix (the index of state S is prefix .. S)
  ARGV[6] JSON object of fields to set; a null value deletes the field
  Returns {'ok', previousState, newVersion} or {'missing'} or {'state'|'version', state, version}
]]
local hash = KEYS[1]
if redis.call('EXISTS', hash) == 0 then
  return {'missing'}
end
local state = redis.call('HGET', hash, 'state')
local version = tonumber(redis.call('HGET', hash, 'version'))
if not string.find(ARGV[1], ' ' .. state .. ' ', 1, true) then
  return {'state', state, version}
end
if ARGV[3] ~= '' and tonumber(ARGV[3]) ~= version then
  return {'version', state, version}
end
local to = ARGV[2]
local patch = cjson.decode(ARGV[6])
for field, value in pairs(patch) do
  if value == cjson.null then
    redis.call('HDEL', hash, field)
  else
    redis.call('HSET', hash, field, tostring(value))
  end
end
version = version + 1
redis.call('HSET', hash, 'state', to, 'version', version, 'updatedAt', ARGV[4])
local id = redis.call('HGET', hash, 'id')
if state ~= to then
  local createdAt = redis.call('HGET', hash, 'createdAt')
  redis.call('ZREM', ARGV[5] .. state, id)
  redis.call('ZADD', ARGV[5] .. to, createdAt, id)
end
if to == 'active' or to == 'revoke-failed' then
  local expiresAt = redis.call('HGET', hash, 'expiresAt')
  if expiresAt then
    redis.call('ZADD', KEYS[2], expiresAt, id)
  end
else
  redis.call('ZREM', KEYS[2], id)
end
return {'ok', state, version}

--[[
  Compare-and-set on one access request: applies only if the request is in one of the allowed
  states (and, when given, at the expected version, and while the grant has not ended). Moves the
  state indexes and the expiry index with it, bumps the version. Two concurrent callers: exactly
  one wins. A request reaching a final state gets a TTL (its hash and approvals), so finished
  records do not pile up; the audit stream keeps the history.

  KEYS[1] request hash
  KEYS[2] expiry index (sorted set: request id by expiresAt)
  KEYS[3] approvals (sorted set) of this request
  KEYS[4] the bot's signed proofs of those approvals (hash), expiring with them
  KEYS[5..] the state indexes (sorted sets: request id by createdAt) of the states ARGV[5] names,
          in that order: every allowed from-state and the target state
  ARGV[1] allowed from-states, space-separated with leading and trailing spaces
  ARGV[2] target state, or '' to keep the current one (an annotation)
  ARGV[3] expected version, or ''
  ARGV[4] now (ms)
  ARGV[5] the states whose indexes are KEYS[5..], space-separated
  ARGV[6] JSON object of fields to set; a null value deletes the field
  ARGV[7] not-expired-at (ms, the caller's clock), or '': when given, the change applies only if
          the stored expiresAt is later than this (a grant that has ended cannot be extended,
          however late the revoke job is)
  ARGV[8] retention in seconds for a request in a final state, or '' (no TTL)
  ARGV[9] request key prefix (the hash of request I is prefix .. I), to trim index entries
          whose request hash has expired. These hashes are the one thing the script touches
          that it cannot declare (which ones is known only inside); they share the declared
          keys' hash tag, so on Redis Cluster they are in the same slot.
  ARGV[10] the final states, space-separated with leading and trailing spaces
  ARGV[11] '1' to leave the version as it is (a message ref, which no click may race), else ''
  Returns {'ok', previousState, newVersion} or {'missing'} or {'state'|'version', state, version}
          or {'expired', state, version, expiresAt}
]]
local hash = KEYS[1]
local indexOf = {}
local n = 5
for name in string.gmatch(ARGV[5], '%S+') do
  indexOf[name] = KEYS[n]
  n = n + 1
end
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
if ARGV[7] ~= '' then
  local ends = redis.call('HGET', hash, 'expiresAt')
  if not ends or tonumber(ends) <= tonumber(ARGV[7]) then
    return {'expired', state, version, ends or ''}
  end
end
local to = ARGV[2]
if to == '' then
  to = state
end
local patch = cjson.decode(ARGV[6])
for field, value in pairs(patch) do
  if value == cjson.null then
    redis.call('HDEL', hash, field)
  else
    redis.call('HSET', hash, field, tostring(value))
  end
end
if ARGV[11] ~= '1' then
  version = version + 1
end
redis.call('HSET', hash, 'state', to, 'version', version, 'updatedAt', ARGV[4])
local id = redis.call('HGET', hash, 'id')
if state ~= to then
  local createdAt = redis.call('HGET', hash, 'createdAt')
  redis.call('ZREM', indexOf[state], id)
  redis.call('ZADD', indexOf[to], createdAt, id)
end
if to == 'active' or to == 'revoke-failed' then
  local expiresAt = redis.call('HGET', hash, 'expiresAt')
  if expiresAt then
    redis.call('ZADD', KEYS[2], expiresAt, id)
  end
else
  redis.call('ZREM', KEYS[2], id)
end
if ARGV[8] ~= '' and string.find(ARGV[10], ' ' .. to .. ' ', 1, true) then
  -- A break-glass use nobody has reviewed yet is kept until its review (which is itself a
  -- transition into this final state, and sets the TTL then).
  local unreviewed = redis.call('HGET', hash, 'breakGlass') == '1' and not redis.call('HGET', hash, 'reviewedBy')
  if not unreviewed then
    local ttl = tonumber(ARGV[8])
    redis.call('EXPIRE', hash, ttl)
    redis.call('EXPIRE', KEYS[3], ttl)
    redis.call('EXPIRE', KEYS[4], ttl)
  end
  -- Trim the oldest entries of this final state's index whose request has expired: one bounded
  -- look per transition keeps pace with the one entry each transition adds.
  local index = indexOf[to]
  local oldest = redis.call('ZRANGE', index, 0, 9)
  for _, old in ipairs(oldest) do
    if redis.call('EXISTS', ARGV[9] .. old) == 0 then
      redis.call('ZREM', index, old)
    end
  end
end
return {'ok', state, version}

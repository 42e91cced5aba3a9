--[[
  Counts one approval on a pending request. One approver counts once; the requester never
  counts; the approval that reaches the required number moves the request to approved, so
  however many clicks arrive at once, exactly one of them sees 'approved'. A request whose
  pendingUntil has passed (its expire job is late) takes no approval: 'expired', nothing changed.

  KEYS[1] request hash
  KEYS[2] approvals (sorted set: approver id by time)
  KEYS[3] state index of pending requests
  KEYS[4] state index of approved requests
  ARGV[1] approver id
  ARGV[2] now (ms, the service's clock)
  Returns {'counted'|'approved', state, version, count} or {'missing'} or
          {'not-pending'|'self'|'already', state, version} or {'expired', state, version, pendingUntil}
]]
local hash = KEYS[1]
if redis.call('EXISTS', hash) == 0 then
  return {'missing'}
end
local state = redis.call('HGET', hash, 'state')
local version = tonumber(redis.call('HGET', hash, 'version'))
if state ~= 'pending' then
  return {'not-pending', state, version}
end
local pendingUntil = tonumber(redis.call('HGET', hash, 'pendingUntil'))
if pendingUntil and tonumber(ARGV[2]) >= pendingUntil then
  return {'expired', state, version, pendingUntil}
end
if redis.call('HGET', hash, 'requesterId') == ARGV[1] then
  return {'self', state, version}
end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return {'already', state, version}
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
local count = redis.call('ZCARD', KEYS[2])
local required = tonumber(redis.call('HGET', hash, 'approvalsRequired'))
version = version + 1
if count >= required then
  local id = redis.call('HGET', hash, 'id')
  local createdAt = redis.call('HGET', hash, 'createdAt')
  redis.call('HSET', hash, 'state', 'approved', 'version', version, 'updatedAt', ARGV[2],
    'decidedBy', ARGV[1], 'decidedAt', ARGV[2])
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZADD', KEYS[4], createdAt, id)
  return {'approved', 'approved', version, count}
end
redis.call('HSET', hash, 'version', version, 'updatedAt', ARGV[2])
return {'counted', 'pending', version, count}

--[[
  Deletes hash fields only where they still hold the value the caller read, so a prune of
  expired entries cannot delete one another client rewrote in the meantime (a session deny
  widened by a revoke between the caller's HGETALL and this call).

  KEYS[1] hash key
  ARGV    field, value, field, value, ...
  Returns the number of fields deleted.
]]
local deleted = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    deleted = deleted + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return deleted

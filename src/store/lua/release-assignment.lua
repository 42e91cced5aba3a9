--[[
  A request lets go of its Identity Center account assignment. Atomic, so of two requests
  ending at once exactly one sees 0 holders left and deletes the assignment.

  KEYS[1] holders hash of the assignment
  KEYS[2] the request's index key
  ARGV[1] request id
  Returns {was a holder (0|1), holders left}.
]]
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return {removed, redis.call('HLEN', KEYS[1])}

--[[
  Appends one audit event to the chained stream, but only if the chain head is still the one
  the caller hashed against; otherwise the caller re-reads the head and tries again. Keeps the
  chain linear with any number of writers.

  KEYS[1] audit stream
  KEYS[2] chain head (hash of the newest entry)
  ARGV[1] head the caller read ('' for an empty log)
  ARGV[2] sha256(ARGV[1] .. ARGV[3])
  ARGV[3] canonical event JSON
  Returns {1, new entry id}, or {0, current head} when the head moved, so the caller can hash
  against the new head without another round trip.
]]
local head = redis.call('GET', KEYS[2]) or ''
if head ~= ARGV[1] then
  return {0, head}
end
local id = redis.call('XADD', KEYS[1], '*', 'event', ARGV[3], 'prev', ARGV[1], 'hash', ARGV[2])
redis.call('SET', KEYS[2], ARGV[2])
return {1, id}

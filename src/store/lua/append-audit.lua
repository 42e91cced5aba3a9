--[[
  Appends one audit event to the chained stream, but only if the chain head is still the one
  the caller hashed against; otherwise the caller re-reads the head and tries again. Keeps the
  chain linear with any number of writers. The hash is computed by the caller (keyed with a
  secret that never reaches Redis), so this script only links it.

  KEYS[1] audit stream
  KEYS[2] chain head (hash of the newest entry)
  ARGV[1] head the caller read ('' for an empty log)
  ARGV[2] the entry's hash over ARGV[1] .. ARGV[3] (HMAC-SHA256 when ARGV[4] says so)
  ARGV[3] canonical event JSON
  ARGV[4] hash algorithm stored with the entry ('hmac-sha256'); '' writes a legacy unkeyed entry
  Returns {1, new entry id}, or {0, current head} when the head moved, so the caller can hash
  against the new head without another round trip.
]]
local head = redis.call('GET', KEYS[2]) or ''
if head ~= ARGV[1] then
  return {0, head}
end
local id
if ARGV[4] ~= nil and ARGV[4] ~= '' then
  id = redis.call('XADD', KEYS[1], '*', 'event', ARGV[3], 'prev', ARGV[1], 'hash', ARGV[2], 'alg', ARGV[4])
else
  id = redis.call('XADD', KEYS[1], '*', 'event', ARGV[3], 'prev', ARGV[1], 'hash', ARGV[2])
end
redis.call('SET', KEYS[2], ARGV[2])
return {1, id}

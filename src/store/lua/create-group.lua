--[[
  Creates a multi-account request group in one step: its fields and its TTL together, so a
  crash never leaves a record without requester, members or TTL. A hash holding only `id` (left
  by an earlier, two-step create that was cut off: nothing can read it) is completed.

  KEYS[1] group key
  ARGV[1] TTL in seconds, or '' for none
  ARGV[2..] field, value, field, value…
  Returns 1 when created, 0 when a group is already there.
]]
if redis.call('HEXISTS', KEYS[1], 'requesterId') == 1 then
  return 0
end
local fields = {}
for i = 2, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('HSET', KEYS[1], unpack(fields))
if ARGV[1] ~= '' then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
end
return 1

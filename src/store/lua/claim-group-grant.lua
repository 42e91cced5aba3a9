--[[
  Claims the granting of a multi-account request for one caller: the first caller to find every
  account approved grants them; a concurrent one finds the claim and leaves it (two callers
  provisioning one account would share its role, see requests/provision.ts). A claim made at or
  before ARGV[2] (reconcile's "stuck before") may be taken over: its holder died.

  KEYS[1] group key
  ARGV[1] now (ms)
  ARGV[2] take over a claim made at or before this time (ms), or '' never
  Returns 1 when claimed, 0 otherwise (claimed by another, or no such group).
]]
if redis.call('HEXISTS', KEYS[1], 'id') == 0 then
  return 0
end
local held = redis.call('HGET', KEYS[1], 'grantingAt')
if held and (ARGV[2] == '' or tonumber(held) > tonumber(ARGV[2])) then
  return 0
end
redis.call('HSET', KEYS[1], 'grantingAt', ARGV[1])
return 1

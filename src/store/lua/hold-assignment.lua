--[[
  Records that a request holds an Identity Center account assignment (one user, one permission
  set, one account). The holders hash is the reference count: the assignment is created by the
  first holder and deleted when the last one lets go (release-assignment.lua).

  KEYS[1] holders hash of the assignment (request id -> JSON record)
  KEYS[2] the request's index key (-> the assignment key)
  ARGV[1] request id
  ARGV[2] JSON record
  ARGV[3] assignment key (stored in KEYS[2])
  Returns the number of holders after the change.
]]
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
return redis.call('HLEN', KEYS[1])

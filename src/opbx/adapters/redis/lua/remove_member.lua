-- Remove a socket from a presence roster.
-- KEYS[1]  P:{app}:presence:{channel}:sockets  hash socket -> user
-- KEYS[2]  P:{app}:presence:{channel}:counts   hash user -> sockets of the user
-- KEYS[3]  P:{app}:presence:{channel}:info     hash user -> user_info (JSON)
-- KEYS[4]  P:node:{id}:owned                   set of the owning node's entries
-- ARGV[1]  socket id
-- ARGV[2]  owned entry ["m", app, channel, socket, user]
-- Returns  1 when it was the user's last socket anywhere (the user left), else 0.
local sockets, counts, info, owned = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local socket, entry = ARGV[1], ARGV[2]
redis.call('SREM', owned, entry)
local user = redis.call('HGET', sockets, socket)
if not user then
  return 0
end
redis.call('HDEL', sockets, socket)
local n = redis.call('HINCRBY', counts, user, -1)
if n <= 0 then
  redis.call('HDEL', counts, user)
  redis.call('HDEL', info, user)
  return 1
end
return 0

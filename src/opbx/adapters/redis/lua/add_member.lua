-- Add a socket to a presence roster unless the roster is full of other users.
-- KEYS[1]  P:{app}:presence:{channel}:sockets  hash socket -> user
-- KEYS[2]  P:{app}:presence:{channel}:counts   hash user -> sockets of the user
-- KEYS[3]  P:{app}:presence:{channel}:info     hash user -> user_info (JSON)
-- KEYS[4]  P:node:{id}:owned                   set of this node's entries
-- ARGV[1]  socket id
-- ARGV[2]  user id
-- ARGV[3]  user_info (JSON)
-- ARGV[4]  most users the roster may hold
-- ARGV[5]  owned entry ["m", app, channel, socket, user]
-- Returns  {1 accepted else 0, 1 when the user's first socket else 0, HGETALL of info}.
local sockets, counts, info, owned = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local socket, user, user_info, max, entry = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
if redis.call('HEXISTS', sockets, socket) == 1 then
  return {1, 0, redis.call('HGETALL', info)}
end
if not redis.call('HGET', counts, user) and redis.call('HLEN', info) >= max then
  return {0, 0, redis.call('HGETALL', info)}
end
redis.call('HSET', sockets, socket, user)
local n = redis.call('HINCRBY', counts, user, 1)
if n == 1 then
  redis.call('HSET', info, user, user_info)
end
redis.call('SADD', owned, entry)
return {1, n == 1 and 1 or 0, redis.call('HGETALL', info)}

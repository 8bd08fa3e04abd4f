-- Forget a socket counted by connect.lua.
-- KEYS[1]  P:{app}:conns         hash socket -> node
-- KEYS[2]  P:node:{id}:owned     set of the owning node's entries
-- ARGV[1]  socket id
-- ARGV[2]  owned entry ["c", app, socket]
-- Returns  1.
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1

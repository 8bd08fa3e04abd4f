-- Record a socket signed in as a user.
-- KEYS[1]  P:{app}:users:{user}  set of the user's sockets
-- KEYS[2]  P:node:{id}:owned     set of this node's entries
-- ARGV[1]  socket id
-- ARGV[2]  owned entry ["u", app, user, socket]
-- Returns  1 when the user just came online (first socket anywhere), else 0.
local added = redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
if added == 1 and redis.call('SCARD', KEYS[1]) == 1 then
  return 1
end
return 0

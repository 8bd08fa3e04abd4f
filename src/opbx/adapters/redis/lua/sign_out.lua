-- Forget a signed-in socket.
-- KEYS[1]  P:{app}:users:{user}  set of the user's sockets
-- KEYS[2]  P:node:{id}:owned     set of the owning node's entries
-- ARGV[1]  socket id
-- ARGV[2]  owned entry ["u", app, user, socket]
-- Returns  1 when it was the user's last socket (the user is now offline), else 0.
local removed = redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
if removed == 1 and redis.call('SCARD', KEYS[1]) == 0 then
  return 1
end
return 0

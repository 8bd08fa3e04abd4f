-- Remove a subscription; tell whether it made the channel vacant, cluster-wide.
-- KEYS[1]  P:{app}:subs:{channel}  hash socket -> node
-- KEYS[2]  P:{app}:channels        set of occupied channels
-- KEYS[3]  P:node:{id}:owned       set of the owning node's entries
-- ARGV[1]  socket id
-- ARGV[2]  channel name
-- ARGV[3]  owned entry ["s", app, channel, socket]
-- Returns  {subscription count, 1 when the channel just became vacant else 0}.
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
local count = redis.call('HLEN', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[3])
if removed == 1 and count == 0 then
  redis.call('SREM', KEYS[2], ARGV[2])
  return {0, 1}
end
return {count, 0}

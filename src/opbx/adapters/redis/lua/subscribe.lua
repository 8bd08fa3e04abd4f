-- Record a subscription; tell whether it made the channel occupied, cluster-wide.
-- KEYS[1]  P:{app}:subs:{channel}  hash socket -> node
-- KEYS[2]  P:{app}:channels        set of occupied channels
-- KEYS[3]  P:node:{id}:owned       set of this node's entries
-- ARGV[1]  socket id
-- ARGV[2]  node id
-- ARGV[3]  channel name
-- ARGV[4]  owned entry ["s", app, channel, socket]
-- Returns  {subscription count, 1 when the channel just became occupied else 0}.
local added = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local count = redis.call('HLEN', KEYS[1])
redis.call('SADD', KEYS[3], ARGV[4])
if added == 1 and count == 1 then
  redis.call('SADD', KEYS[2], ARGV[3])
  return {count, 1}
end
return {count, 0}

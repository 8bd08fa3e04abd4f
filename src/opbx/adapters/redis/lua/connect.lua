-- Count a socket of an app, owned by this node.
-- KEYS[1]  P:{app}:conns         hash socket -> node
-- KEYS[2]  P:node:{id}:owned     set of this node's entries
-- ARGV[1]  socket id
-- ARGV[2]  node id
-- ARGV[3]  owned entry ["c", app, socket]
-- Returns  the app's connection count across the cluster.
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return redis.call('HLEN', KEYS[1])

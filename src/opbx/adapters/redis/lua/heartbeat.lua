-- Renew a node's lease, timed on Redis's clock (so the nodes' clocks need not agree).
-- KEYS[1]  P:nodes  sorted set node -> last beat (milliseconds)
-- ARGV[1]  node id
-- Returns  1 when the node was unknown (first beat, Redis restarted or failed over, or the
--          node was reaped while paused), else 0.
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
return redis.call('ZADD', KEYS[1], ms, ARGV[1])

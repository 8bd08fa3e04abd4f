-- The nodes whose lease ran out, on Redis's clock.
-- KEYS[1]  P:nodes  sorted set node -> last beat (milliseconds)
-- ARGV[1]  lease length (milliseconds)
-- Returns  the ids of the nodes that last beat longer ago than the lease.
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[1]))

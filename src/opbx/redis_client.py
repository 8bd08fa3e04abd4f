"""One way to open Redis for the whole project: a pool that waits for a free connection.

redis-py's default pool raises "Too many connections" the moment more than 100 commands
are in flight; a burst of 500 sockets subscribing at once did that, and the adapter took it
for Redis being down. This pool queues the command instead, for up to ``wait`` seconds.
https://redis.readthedocs.io/en/stable/connections.html#connectionpool-async
"""

from __future__ import annotations

import redis.asyncio as redis

__all__ = ["open_redis"]


def open_redis(url: str, *, max_connections: int = 64, wait: float = 5.0) -> redis.Redis:
    """A client of ``url`` whose commands wait up to ``wait`` seconds for one of its connections."""
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=wait,
        socket_timeout=5,
        socket_connect_timeout=5,
        health_check_interval=10,
    )
    return redis.Redis.from_pool(pool)  # closing the client closes the pool

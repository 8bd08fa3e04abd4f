"""One way to open Redis for the whole project: a pool that waits for a free connection.

redis-py's default pool raises "Too many connections" the moment more than 100 commands
are in flight; a burst of 500 sockets subscribing at once did that, and the adapter took it
for Redis being down. This pool queues the command instead, for up to ``wait`` seconds.
https://redis.readthedocs.io/en/stable/connections.html#connectionpool-async

With Redis Sentinel (``sentinels`` and ``sentinel_master``), every new connection asks the
sentinels which Redis is the master now, so after a failover the clients reconnect to the
promoted replica; the URL's password, user name, database and TLS still apply to it.
https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/
https://redis.readthedocs.io/en/stable/connections.html#sentinel-client
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as redis
from redis.asyncio.connection import parse_url
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

__all__ = ["open_redis", "sentinel_address"]

_TIMEOUTS = {"socket_timeout": 5, "socket_connect_timeout": 5}


def open_redis(
    url: str,
    *,
    sentinels: Sequence[str] = (),
    sentinel_master: str | None = None,
    max_connections: int = 64,
    wait: float = 5.0,
) -> redis.Redis:
    """A client of ``url`` (or of the master the sentinels name) whose commands wait up to
    ``wait`` seconds for one of its connections."""
    if sentinels:
        if not sentinel_master:
            raise ValueError("Redis Sentinel needs the master's name as well as the sentinels")
        return _open_through_sentinels(url, sentinels, sentinel_master, max_connections, wait)
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=wait, health_check_interval=10, **_TIMEOUTS
    )
    return redis.Redis.from_pool(pool)  # closing the client closes the pool


def sentinel_address(text: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` too) as a pair; ValueError when it is not one."""
    host, _, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not host:port")
    return host, int(port)


class _BlockingSentinelPool(SentinelConnectionPool, redis.BlockingConnectionPool):
    """Sentinel's master discovery with the blocking pool's waiting for a free connection."""


class _SentinelRedis(redis.Redis):
    """A client that also closes its connections to the sentinels when it is closed."""

    manager: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        if self.manager is not None:
            await self.manager.aclose()


def _open_through_sentinels(
    url: str, sentinels: Sequence[str], master: str, max_connections: int, wait: float
) -> redis.Redis:
    options: dict[str, Any] = {
        key: value for key, value in parse_url(url).items() if key in ("db", "username", "password")
    }
    if url.startswith("rediss://"):
        options["ssl"] = True
    addresses = [sentinel_address(text) for text in sentinels]
    manager = Sentinel(addresses, sentinel_kwargs=dict(_TIMEOUTS))  # type: ignore[no-untyped-call]
    client = manager.master_for(
        master,
        redis_class=_SentinelRedis,
        connection_pool_class=_BlockingSentinelPool,
        max_connections=max_connections,
        timeout=wait,
        health_check_interval=10,
        **_TIMEOUTS,
        **options,
    )
    assert isinstance(client, _SentinelRedis)
    client.manager = manager
    return client

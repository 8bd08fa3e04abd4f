"""The project's Redis client against the real Redis: bursts wait for a connection, never fail."""

from __future__ import annotations

import asyncio

from opbx.redis_client import open_redis
from tests.helpers.redis import REDIS_URL, delete_prefix, unique_prefix


async def test_a_burst_far_above_the_pool_size_waits_instead_of_failing() -> None:
    prefix = unique_prefix()
    client = open_redis(REDIS_URL, max_connections=4)
    try:
        # 400 blocking commands at once over 4 connections: each waits its turn.
        results = await asyncio.gather(*(client.incr(f"{prefix}:counter") for _ in range(400)))
        assert sorted(results) == list(range(1, 401))
        assert await client.get(f"{prefix}:counter") == b"400"
    finally:
        await client.aclose()
        await delete_prefix(prefix)

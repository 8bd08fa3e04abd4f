"""The project's Redis client against the real Redis: bursts wait for a connection, never fail; Sentinel."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.exceptions import RedisError

from opbx.redis_client import open_redis, sentinel_address
from tests.helpers.sentinel import MASTER_NAME, SentinelRedis


async def test_a_burst_far_above_the_pool_size_waits_instead_of_failing(redis_url: str, redis_prefix: str) -> None:
    prefix = redis_prefix
    client = open_redis(redis_url, max_connections=4)
    try:
        # 400 blocking commands at once over 4 connections: each waits its turn.
        results = await asyncio.gather(*(client.incr(f"{prefix}:counter") for _ in range(400)))
        assert sorted(results) == list(range(1, 401))
        assert await client.get(f"{prefix}:counter") == b"400"
    finally:
        await client.aclose()


@pytest.mark.integration
async def test_through_sentinels_the_client_follows_a_promoted_replica(tmp_path: Path) -> None:
    deployment = SentinelRedis(tmp_path).start()
    # The URL's host is nobody: only the sentinels can say where Redis is; its database still applies.
    client = open_redis(
        "redis://127.0.0.1:1/3", sentinels=deployment.addresses, sentinel_master=MASTER_NAME, max_connections=4
    )
    try:
        # 40 commands at once over 4 connections wait their turn, as without Sentinel.
        assert sorted(await asyncio.gather(*(client.incr("counter") for _ in range(40)))) == list(range(1, 41))
        assert deployment.master.ask(lambda master: master.get("counter"), db=3) == "40"
        assert deployment.master.ask(lambda master: master.wait(1, 2000)) == 1  # the replica has it too

        deployment.kill_master()
        promoted = deployment.wait_for_promotion(20)
        assert promoted == deployment.replica.port
        for _ in range(100):  # its pooled connections to the dead master fail once, then go to the new one
            try:
                assert await client.incr("counter") == 41
                break
            except RedisError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("the client never reached the promoted replica")
        assert deployment.replica.ask(lambda replica: replica.get("counter"), db=3) == "41"
    finally:
        await client.aclose()
        deployment.stop()


def test_a_sentinel_address_is_host_and_port() -> None:
    assert sentinel_address("10.0.0.5:26379") == ("10.0.0.5", 26379)
    assert sentinel_address("[::1]:26379") == ("::1", 26379)
    for bad in ("10.0.0.5", ":26379", "host:0", "host:port"):
        with pytest.raises(ValueError, match="is not host:port"):
            sentinel_address(bad)
    with pytest.raises(ValueError, match="master's name"):
        open_redis("redis://127.0.0.1:6379/0", sentinels=["127.0.0.1:26379"])

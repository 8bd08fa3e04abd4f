"""Two realtime nodes on Redis Sentinel: the master is killed under load, the nodes follow.

A master, a replica and three sentinels (``tests/helpers/sentinel.py``); two ``opbx
realtime`` processes configured with the sentinels only (their ``redis_url`` names a port
nobody listens on, so only the sentinels can say where Redis is). Clients on both nodes
are subscribed and present; events are published through both nodes while the master is
SIGKILLed. The nodes must follow the promoted replica, and presence and subscription
counts must be exact afterwards. What pub/sub lost in the switch is measured, not
asserted (it is at most once): ``docs/scaling.md`` records it. To see the figures:

    pytest -s tests/realtime/test_sentinel_failover.py
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis.asyncio as redis

from tests.helpers.apps import TEST_APP
from tests.helpers.http_api import api_request
from tests.helpers.nodes import Node
from tests.helpers.pusher_client import PusherClient
from tests.helpers.redis import unique_prefix
from tests.helpers.sentinel import MASTER_NAME, SentinelRedis

pytestmark = pytest.mark.integration

T = TypeVar("T")
KEY, SECRET = TEST_APP.key, TEST_APP.secret
EVENTS = 200
"""Numbered events published during the failover, alternately through each node."""
KILL_AT = 40
"""The master is killed right after this event is published."""
FAILOVER_BUDGET = 20.0
"""Seconds within which the nodes must be on the new master: sentinel detection (0.5 s),
election and promotion, and the nodes' reconnection backoff."""


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[SentinelRedis]:
    (tmp_path / "redis").mkdir()
    deployment = SentinelRedis(tmp_path / "redis").start()
    yield deployment
    deployment.stop()


NO_HOOK = "http://127.0.0.1:1/hook"
"""TEST_APP's webhook endpoint: nobody answers, so its deliveries stay queued in Redis, visibly."""
PREFIX = unique_prefix()
"""The cluster's key prefix (the deployment is the test's own, so one for the module will do)."""


@pytest.fixture
def two_nodes(tmp_path: Path, deployment: SentinelRedis) -> Iterator[tuple[Node, Node]]:
    sentinels = ", ".join(f'"{address}"' for address in deployment.addresses)
    settings = f'redis_sentinels = [{sentinels}]\nredis_sentinel_master = "{MASTER_NAME}"\n'
    # node_timeout well above the outage, so no node takes the other for dead (docs/scaling.md).
    started = [
        Node(tmp_path, "redis://127.0.0.1:1/0", PREFIX, node_timeout=10, server_settings=settings, webhook_url=NO_HOOK)
        for _ in range(2)
    ]
    try:
        yield started[0].start(), started[1].start()
    finally:
        for node in started:
            node.stop()


async def until(what: str, probe: Callable[[], Awaitable[T | None]], timeout: float) -> T:
    """Poll ``probe`` until it answers something other than None; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await probe()
        if value is not None:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout} s")


async def api(node: Node, method: str, path: str, **options: Any) -> tuple[int, Any]:
    return await api_request(node.port, method, f"/apps/{TEST_APP.id}{path}", key=KEY, secret=SECRET, **options)


async def publish(node: Node, number: int) -> int:
    body = json.dumps({"name": "numbered", "channel": "news", "data": json.dumps({"n": number})}).encode()
    status, _ = await api(node, "POST", "/events", body=body)
    return status


async def cluster_view(node: Node) -> tuple[dict[str, int], list[str]] | None:
    """Subscription counts of the occupied channels, and the presence roster, as ``node`` answers."""
    status, channels = await api(node, "GET", "/channels", params={"info": "subscription_count"})
    status_users, users = await api(node, "GET", "/channels/presence-room/users")
    if status != 200 or status_users != 200:
        return None
    counts = {name: info["subscription_count"] for name, info in channels["channels"].items()}
    return counts, sorted(user["id"] for user in users["users"])


class Received:
    """The numbered events one client received, read in the background."""

    def __init__(self, client: PusherClient) -> None:
        self.client = client
        self.numbers: list[int] = []
        self.removed: list[str] = []
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        while True:
            message = await self.client.next(timeout=120)
            if message["event"] == "numbered":
                self.numbers.append(json.loads(message["data"])["n"])
            elif message["event"] == "pusher_internal:member_removed":
                self.removed.append(json.loads(message["data"])["user_id"])

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()


@pytest.fixture
async def clients(two_nodes: tuple[Node, Node]) -> AsyncIterator[list[PusherClient]]:
    a, b = two_nodes
    connected = [await PusherClient.connect(node.port, KEY) for node in (a, b, b)]
    yield connected
    for client in connected:
        await client.close()


async def test_the_nodes_follow_the_promoted_replica_and_the_counts_stay_exact(
    deployment: SentinelRedis, two_nodes: tuple[Node, Node], clients: list[PusherClient]
) -> None:
    a, b = two_nodes
    on_a, on_b, also_on_b = clients
    for client, user in ((on_a, "ann"), (on_b, "bob"), (also_on_b, "ann")):  # ann on both nodes
        answer = await client.subscribe("presence-room", key=KEY, secret=SECRET, channel_data={"user_id": user})
        assert answer["event"] == "pusher_internal:subscription_succeeded"
    for client in (on_a, on_b, also_on_b):
        await client.subscribe("news")
    expected = ({"presence-room": 3, "news": 3}, ["ann", "bob"])
    assert await cluster_view(a) == expected
    assert await cluster_view(b) == expected
    readers = [Received(on_a), Received(on_b), Received(also_on_b)]
    try:
        await _fail_over_under_load(deployment, a, b, readers, expected)
    finally:
        for reader in readers:
            await reader.close()


async def _fail_over_under_load(
    deployment: SentinelRedis, a: Node, b: Node, readers: list[Received], expected: tuple[dict[str, int], list[str]]
) -> None:
    bus = f"{PREFIX}:bus"

    async def bus_listeners(port: int) -> int | None:
        try:
            async with redis.Redis(port=port, socket_connect_timeout=1) as client:
                (_, count), *_ = await client.pubsub_numsub(bus)
        except (redis.RedisError, OSError):
            return None
        return int(count) if count == 2 else None

    assert await bus_listeners(deployment.master.port) == 2

    async def queued_webhooks() -> bool | None:  # the webhook store found the master through the sentinels too
        async with redis.Redis(port=deployment.master.port) as client:
            return True if [key async for key in client.scan_iter(match=f"{PREFIX}:webhooks:queue:*")] else None

    await until("webhooks queued on the master", queued_webhooks, 10)

    # Publish through both nodes in turn; kill the master part way, and from then on watch for
    # both nodes' bus subscriptions on the replica (the only one that can be promoted).
    statuses, published_at = [], []
    followed: asyncio.Task[float] | None = None
    promoted: asyncio.Task[float] | None = None
    for number in range(EVENTS):
        published_at.append(time.monotonic())
        statuses.append(await publish(a if number % 2 == 0 else b, number))
        if number == KILL_AT:
            deployment.kill_master()
            killed_at = time.monotonic()
            followed = asyncio.create_task(_when(lambda: bus_listeners(deployment.replica.port)))
            promoted = asyncio.create_task(_promoted(deployment))
        await asyncio.sleep(0.02)
    assert statuses == [200] * EVENTS  # publishing never failed: each node serves its own sockets
    assert followed is not None
    assert promoted is not None

    # The sentinels promote the replica, and the nodes follow it, within the failover budget.
    promotion_time = await asyncio.wait_for(promoted, FAILOVER_BUDGET) - killed_at
    follow_time = await asyncio.wait_for(followed, FAILOVER_BUDGET) - killed_at

    # Exact afterwards, through either node: no socket lost, none counted twice.
    assert await until("a's view exact", lambda: _exactly(cluster_view(a), expected), FAILOVER_BUDGET)
    assert await cluster_view(b) == expected

    # Cross-node delivery works again; then count what each client got of the numbered events.
    await until("cross-node delivery", lambda: _delivered_across(a, readers), FAILOVER_BUDGET)
    for reader in readers:
        assert reader.removed == []  # nobody was announced gone: no false leave
        assert len(reader.numbers) == len(set(reader.numbers))  # at most once
    own = [range(0, EVENTS, 2), range(1, EVENTS, 2), range(1, EVENTS, 2)]
    lost = []
    for reader, published_here in zip(readers, own, strict=True):
        got = {n for n in reader.numbers if n < EVENTS}
        assert set(published_here) <= got  # a node's own sockets get all it published, Redis or not
        lost.append(sorted(set(range(EVENTS)) - got))
    windows = [f"+{published_at[n[0]] - killed_at:.2f}..+{published_at[n[-1]] - killed_at:.2f} s" for n in lost if n]
    print(
        f"\nSentinel failover: replica promoted {promotion_time:.2f} s and both nodes' buses on it "
        f"{follow_time:.2f} s after the kill; "
        f"of the {EVENTS // 2} events each client had from the other node, lost: {[len(n) for n in lost]} "
        f"(published {windows} after the kill; {EVENTS} events over {published_at[-1] - published_at[0]:.1f} s)"
    )


async def _promoted(deployment: SentinelRedis) -> float:
    """The moment every sentinel names the replica master and it acts as one."""
    await asyncio.to_thread(deployment.wait_for_promotion, FAILOVER_BUDGET)
    return time.monotonic()


async def _when(probe: Callable[[], Awaitable[object | None]]) -> float:
    """The moment ``probe`` first answers something other than None (polled every 50 ms)."""
    await until("both nodes' buses on the promoted replica", probe, FAILOVER_BUDGET)
    return time.monotonic()


async def _exactly(view: Awaitable[T | None], expected: T) -> bool | None:
    return True if await view == expected else None


async def _delivered_across(node: Node, readers: list[Received]) -> bool | None:
    """Publish a fresh event through ``node``; True once every client has it."""
    marker = EVENTS + len(readers[0].numbers) + 1000
    await publish(node, marker)
    for _ in range(20):
        if all(marker in reader.numbers for reader in readers):
            return True
        await asyncio.sleep(0.05)
    return None

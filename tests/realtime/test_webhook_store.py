"""The webhook delivery queue, in memory and in the real Redis: the same behaviour from both."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest

from opbx.protocol.app import AppId
from opbx.realtime.webhook_store import ClaimLost, DeadLetter, Delivery, DeliveryStore, MemoryDeliveryStore
from opbx.realtime.webhook_store_redis import RedisDeliveryStore
from tests.helpers.polling import eventually
from tests.helpers.redis import REDIS_URL, delete_prefix, unique_prefix

URL = "https://example.com/hooks"


def delivery(url: str = URL, app_id: str = "1") -> Delivery:
    return Delivery(uuid.uuid4().hex, AppId(app_id), url, b'{"time_ms":1,"events":[]}', 1, time.time())


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[DeliveryStore]:
    if request.param == "memory":
        memory = MemoryDeliveryStore()
        yield memory
        await memory.close()
        return
    prefix = unique_prefix()
    shared = RedisDeliveryStore(REDIS_URL, prefix=prefix)
    yield shared
    await shared.close()
    await delete_prefix(prefix)


async def test_claims_what_is_due_oldest_first_and_forgets_what_is_done(store: DeliveryStore) -> None:
    first, second, later = delivery(), delivery(), delivery()
    now = time.time()
    await store.push([first], now - 2)
    await store.push([second], now - 1)
    await store.push([later], now + 60)
    assert await store.pending(first.lane) == 3
    claimed = await store.claim(first.lane, now, 10)
    assert [item.id for item in claimed] == [first.id, second.id]
    assert await store.claim(first.lane, now, 10) == []  # claimed: hidden from the next claim
    for item in claimed:
        await store.done(item)
    assert await store.pending(first.lane) == 1
    assert await store.claim(delivery(url="https://other.example/").lane, now + 120, 10) == []


async def test_a_retry_comes_back_when_due_with_its_attempts(store: DeliveryStore) -> None:
    item = delivery()
    now = time.time()
    await store.push([item], now)
    (claimed,) = await store.claim(item.lane, now, 1)
    claimed.attempts, claimed.first_attempt, claimed.last_error = 1, now, "HTTP 500"
    await store.retry(claimed, now + 5)
    assert await store.claim(item.lane, now + 4, 1) == []
    (again,) = await store.claim(item.lane, now + 5, 1)
    assert (again.id, again.attempts, again.last_error) == (item.id, 1, "HTTP 500")


async def test_buried_deliveries_are_kept_newest_first(store: DeliveryStore) -> None:
    items = [delivery(), delivery()]
    now = time.time()
    await store.push(items[:1], now - 1)
    await store.push(items[1:], now)
    for claimed in await store.claim(items[0].lane, now, 2):
        await store.bury(claimed, DeadLetter(claimed, "failed for 300s", now))
    assert await store.pending(items[0].lane) == 0
    dead = await store.dead_letters()
    assert [letter.delivery.id for letter in dead] == [items[1].id, items[0].id]
    assert dead[0].reason == "failed for 300s"
    assert dead[0].delivery.body == items[1].body


async def test_a_claim_of_a_dead_node_expires_and_another_node_takes_the_delivery(
    redis_url: str, redis_prefix: str
) -> None:
    crashed = RedisDeliveryStore(redis_url, prefix=redis_prefix, visibility_timeout=0.2)
    survivor = RedisDeliveryStore(redis_url, prefix=redis_prefix, visibility_timeout=0.2)
    try:
        item = delivery()
        await crashed.push([item], time.time())
        (held,) = await crashed.claim(item.lane, time.time(), 1)
        assert await survivor.claim(item.lane, time.time(), 1) == []
        (taken,) = await eventually(  # once the claim's 0.2 s visibility timeout has passed
            lambda: survivor.claim(item.lane, time.time(), 1), "the survivor takes the expired claim"
        )
        assert taken.id == item.id
        with pytest.raises(ClaimLost):
            await crashed.done(held)  # too late: the survivor has it
        await survivor.done(taken)
        assert await survivor.pending(item.lane) == 0
    finally:
        await crashed.close()
        await survivor.close()

"""The pusher driver against real realtime servers: signed publishing, and failover between URLs."""

from __future__ import annotations

import asyncio

import pytest

from opbx.broadcasting.base import Broadcast, BroadcastFailed
from opbx.broadcasting.pusher import RETRY_AFTER, PusherBroadcaster
from opbx.realtime.server import RealtimeServer
from tests.conftest import ServerFactory
from tests.helpers.apps import TEST_APP
from tests.helpers.pusher_client import PusherClient

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def url(server: RealtimeServer) -> str:
    return f"http://127.0.0.1:{server.port}"


async def listener(server: RealtimeServer) -> PusherClient:
    client = await PusherClient.connect(server.port, TEST_APP.key)
    await client.subscribe("calls")
    return client


async def test_a_dead_url_is_passed_over_at_once_and_tried_again_within_seconds(make_server: ServerFactory) -> None:
    first, second = await make_server(), await make_server()
    first_url, second_url = url(first), url(second)
    clock = Clock()
    driver = PusherBroadcaster([first_url, second_url], TEST_APP.id, TEST_APP.key, TEST_APP.secret, clock=clock)
    on_first, on_second = await listener(first), await listener(second)
    try:
        await driver.broadcast(["calls"], "call.initiated", {"n": 1})
        assert (await on_first.expect("call.initiated"))["data"] == '{"n":1}'
        await on_first.close()
        port = first.port
        await first.stop()  # the preferred node dies

        await driver.broadcast(["calls"], "call.initiated", {"n": 2})
        assert (await on_second.expect("call.initiated"))["data"] == '{"n":2}'
        await driver.broadcast(["calls"], "call.initiated", {"n": 3})  # no new try of the dead one
        assert (await on_second.expect("call.initiated"))["data"] == '{"n":3}'
        assert (driver.stats.attempts[first_url], driver.stats.failures[first_url]) == (2, 1)
        assert (driver.stats.attempts[second_url], driver.stats.failures[second_url]) == (2, 0)
        assert await driver.target_health() == {first_url: False, second_url: True}

        revived = await make_server(port=port)  # it comes back...
        on_revived = await listener(revived)
        clock.now += RETRY_AFTER  # ...and is tried first again once its time is out
        await driver.broadcast(["calls"], "call.initiated", {"n": 4})
        assert (await on_revived.expect("call.initiated"))["data"] == '{"n":4}'
        await on_second.nothing_within(0.2)
        await on_revived.close()
    finally:
        await on_second.close()
        await driver.close()


async def test_a_batch_is_one_request_and_arrives_in_order_on_every_channel(make_server: ServerFactory) -> None:
    server = await make_server()
    driver = PusherBroadcaster([url(server)], TEST_APP.id, TEST_APP.key, TEST_APP.secret)
    client = await PusherClient.connect(server.port, TEST_APP.key)
    await client.subscribe("calls")
    await client.subscribe("desk")
    try:
        batch = [
            Broadcast(["calls"], "call.initiated", {"n": 1}),
            Broadcast(["calls", "desk"], "call.answered", {"n": 2}),
            Broadcast(["calls"], "call.ended", {"n": 3}),
        ]
        await driver.broadcast_batch(batch)
        received = [
            await client.expect(name) for name in ("call.initiated", "call.answered", "call.answered", "call.ended")
        ]
        assert [(message["channel"], message["data"]) for message in received] == [
            ("calls", '{"n":1}'),
            ("calls", '{"n":2}'),
            ("desk", '{"n":2}'),
            ("calls", '{"n":3}'),
        ]
        assert driver.stats.attempts[url(server)] == 1  # one request for the three events
    finally:
        await client.close()
        await driver.close()


async def test_a_refused_batch_raises(make_server: ServerFactory) -> None:
    server = await make_server()
    driver = PusherBroadcaster([url(server)], TEST_APP.id, TEST_APP.key, "not-the-secret")
    try:
        with pytest.raises(BroadcastFailed, match="HTTP 401"):
            await driver.broadcast_batch([Broadcast(["calls"], "a", {}), Broadcast(["calls"], "b", {})])
    finally:
        await driver.close()


async def test_every_url_down_fails_with_each_reason(make_server: ServerFactory) -> None:
    server = await make_server()
    dead = url(server)
    await server.stop()
    driver = PusherBroadcaster([dead, "http://127.0.0.1:1"], TEST_APP.id, TEST_APP.key, TEST_APP.secret)
    try:
        with pytest.raises(BroadcastFailed) as failed:
            await driver.broadcast(["calls"], "call.ended", {})
        assert dead in str(failed.value)
        assert "http://127.0.0.1:1" in str(failed.value)
        assert await driver.healthy() is False
    finally:
        await driver.close()


async def test_a_refusal_is_not_failed_over(make_server: ServerFactory) -> None:
    first, second = await make_server(), await make_server()
    driver = PusherBroadcaster([url(first), url(second)], TEST_APP.id, TEST_APP.key, "a wrong secret")
    try:
        with pytest.raises(BroadcastFailed, match="HTTP 401"):
            await driver.broadcast(["calls"], "call.ended", {})
        assert driver.stats.attempts[url(second)] == 0  # every node would refuse the same request
        assert driver.stats.failures[url(first)] == 1
    finally:
        await driver.close()


async def member(server: RealtimeServer, user_id: str) -> PusherClient:
    client = await PusherClient.connect(server.port, TEST_APP.key)
    answer = await client.subscribe(
        "presence-org.1", secret=TEST_APP.secret, key=TEST_APP.key, channel_data={"user_id": user_id, "user_info": {}}
    )
    assert answer["event"] == "pusher_internal:subscription_succeeded", answer
    return client


async def test_presence_is_read_from_the_first_url_that_answers(make_server: ServerFactory) -> None:
    server = await make_server()
    dead = await make_server()
    dead_url = url(dead)
    await dead.stop()
    clock = Clock()
    driver = PusherBroadcaster([dead_url, url(server)], TEST_APP.id, TEST_APP.key, TEST_APP.secret, clock=clock)
    ada, bob = await member(server, "3"), await member(server, "4")
    try:
        assert await driver.present_users("presence-org.1") == {"3", "4"}
        assert await driver.present_users("presence-org.2") == set()  # nobody there
        await bob.close()
        for _ in range(100):  # until the server has seen the close
            if await driver.present_users("presence-org.1") == {"3"}:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("user 4 never left")
        # Lookups are not deliveries, but a dead URL is passed over for them as for a broadcast.
        assert driver.stats.attempts == {}
        await driver.broadcast(["calls"], "call.ringing", {})
        assert (driver.stats.attempts[url(server)], driver.stats.attempts[dead_url]) == (1, 0)
    finally:
        await ada.close()
        await driver.close()


async def test_presence_not_known_when_no_url_answers_or_one_refuses(make_server: ServerFactory) -> None:
    server = await make_server()
    nowhere = PusherBroadcaster(["http://127.0.0.1:1"], TEST_APP.id, TEST_APP.key, TEST_APP.secret)
    refused = PusherBroadcaster([url(server)], TEST_APP.id, TEST_APP.key, "a wrong secret")
    not_presence = PusherBroadcaster([url(server)], TEST_APP.id, TEST_APP.key, TEST_APP.secret)
    try:
        assert await nowhere.present_users("presence-org.1") is None
        assert await refused.present_users("presence-org.1") is None
        assert await not_presence.present_users("private-extension.1") is None  # 400: not a presence channel
    finally:
        for driver in (nowhere, refused, not_presence):
            await driver.close()

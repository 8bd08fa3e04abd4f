"""The pusher driver against real realtime servers: signed publishing, and failover between URLs."""

from __future__ import annotations

import pytest

from opbx.broadcasting.base import BroadcastFailed
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

"""Many clients at once: batches, failures, counting and draining."""

from __future__ import annotations

from opbx.bench.fleet import Fleet
from opbx.bench.publisher import Publisher
from opbx.bench.target import Endpoint
from opbx.realtime.server import RealtimeServer
from tests.helpers.apps import SMALL_APP, TEST_APP


def _endpoint(server: RealtimeServer) -> Endpoint:
    return Endpoint("127.0.0.1", server.port, TEST_APP.id, TEST_APP.key, TEST_APP.secret)


async def test_opens_in_batches_and_counts_every_delivery(server: RealtimeServer) -> None:
    endpoint = _endpoint(server)
    fleet = await Fleet.open(endpoint, 25, channel="room", batch=7)
    assert len(fleet) == 25
    assert not fleet.failures
    fleet.count(b"~obfleet")
    publisher = Publisher(endpoint, 2)
    await publisher.open()
    for _ in range(4):
        assert await publisher.publish("room", "e", lambda: "~obfleet")
    assert await fleet.drain(4 * 25, idle_timeout=5.0) == 100
    assert fleet.last_receive_ns > 0
    publisher.close()
    await fleet.close()
    assert fleet.lost == 25


async def test_failures_are_counted_not_raised(server: RealtimeServer) -> None:
    endpoint = Endpoint("127.0.0.1", server.port, SMALL_APP.id, SMALL_APP.key, SMALL_APP.secret)
    fleet = await Fleet.open(endpoint, 6, batch=6)  # the app allows 4 connections
    assert len(fleet) == 4
    assert sum(fleet.failures.values()) == 2
    await fleet.close()


async def test_drain_gives_up_when_nothing_arrives(server: RealtimeServer) -> None:
    fleet = await Fleet.open(_endpoint(server), 2, channel="quiet")
    fleet.count(b"~obnone")
    assert await fleet.drain(10, idle_timeout=0.05) == 0
    await fleet.close()

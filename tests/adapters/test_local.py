"""The local adapter's bookkeeping (the cluster-wide suite runs against it too)."""

from __future__ import annotations

from opbx.adapters.base import ChannelCounts, Occupancy
from opbx.adapters.local import LocalAdapter
from opbx.protocol.app import AppId
from opbx.protocol.channels import ChannelName
from opbx.protocol.presence import PresenceMember, UserId
from opbx.protocol.session import SocketId
from tests.helpers.clock import ManualClock
from tests.helpers.recording_handler import RecordingHandler

APP = AppId("1")
ROOM = ChannelName("presence-room")


def member(user_id: str, info: object = None) -> PresenceMember:
    return PresenceMember(UserId(user_id), info)


async def test_publish_and_terminate_call_back_into_the_handler() -> None:
    adapter, handler = LocalAdapter(), RecordingHandler()
    await adapter.start(handler)
    await adapter.publish(APP, ChannelName("a"), b"m", SocketId("1.1"))
    await adapter.terminate_user(APP, UserId("7"))
    assert handler.delivered == [("1", "a", b"m", "1.1")]
    assert handler.terminated == [("1", "7")]


async def test_presence_first_and_last_socket_of_a_user() -> None:
    adapter = LocalAdapter()
    first = await adapter.add_member(APP, ROOM, SocketId("1.1"), member("7", {"n": 1}), 100)
    assert (first.accepted, first.first, first.members) == (True, True, {"7": {"n": 1}})
    again = await adapter.add_member(APP, ROOM, SocketId("1.2"), member("7", {"n": 2}), 100)
    assert (again.first, again.members) == (False, {"7": {"n": 1}})
    assert await adapter.remove_member(APP, ROOM, SocketId("1.1"), UserId("7")) is False
    assert await adapter.remove_member(APP, ROOM, SocketId("1.1"), UserId("7")) is False  # twice: no effect
    assert await adapter.remove_member(APP, ROOM, SocketId("1.2"), UserId("7")) is True
    assert await adapter.members(APP, ROOM) == {}


async def test_a_full_roster_refuses_new_users_only() -> None:
    adapter = LocalAdapter()
    await adapter.add_member(APP, ROOM, SocketId("1.1"), member("1"), 1)
    refused = await adapter.add_member(APP, ROOM, SocketId("1.2"), member("2"), 1)
    assert (refused.accepted, refused.members) == (False, {"1": None})
    assert (await adapter.add_member(APP, ROOM, SocketId("1.3"), member("1"), 1)).accepted


async def test_counts_channels_and_connections() -> None:
    adapter = LocalAdapter()
    assert await adapter.add_connection(APP, SocketId("1.1")) == 1
    assert await adapter.add_connection(APP, SocketId("1.2")) == 2
    await adapter.remove_connection(APP, SocketId("1.1"))
    assert await adapter.add_connection(APP, SocketId("1.3")) == 2
    assert await adapter.subscribe(APP, ROOM, SocketId("1.2")) == Occupancy(count=1, changed=True)
    assert await adapter.subscribe(APP, ROOM, SocketId("1.2")) == Occupancy(count=1, changed=False)
    assert await adapter.subscribe(APP, ChannelName("news"), SocketId("1.2")) == Occupancy(count=1, changed=True)
    await adapter.add_member(APP, ROOM, SocketId("1.2"), member("1"), 10)
    assert await adapter.channels(APP) == {
        ROOM: ChannelCounts(subscription_count=1, user_count=1),
        "news": ChannelCounts(subscription_count=1),
    }
    assert await adapter.unsubscribe(APP, ChannelName("news"), SocketId("1.2")) == Occupancy(count=0, changed=True)
    assert await adapter.unsubscribe(APP, ChannelName("news"), SocketId("1.2")) == Occupancy(count=0, changed=False)
    assert await adapter.channel(APP, ChannelName("news")) == ChannelCounts(subscription_count=0)
    assert await adapter.channels(AppId("other")) == {}


async def test_cache_entries_expire() -> None:
    clock = ManualClock()
    adapter = LocalAdapter(clock)
    await adapter.cache_set(APP, ChannelName("cache-a"), b"last", ttl=60)
    assert await adapter.cache_get(APP, ChannelName("cache-a")) == b"last"
    clock.advance(61)
    assert await adapter.cache_get(APP, ChannelName("cache-a")) is None


async def test_users_come_online_with_their_first_socket_and_leave_with_their_last() -> None:
    adapter = LocalAdapter()
    assert await adapter.sign_in(APP, UserId("7"), SocketId("1.1")) is True
    assert await adapter.sign_in(APP, UserId("7"), SocketId("1.2")) is False
    assert await adapter.online(APP, [UserId("7"), UserId("8")]) == ["7"]
    assert await adapter.sign_out(APP, UserId("7"), SocketId("1.1")) is False
    assert await adapter.sign_out(APP, UserId("7"), SocketId("1.1")) is False
    assert await adapter.sign_out(APP, UserId("7"), SocketId("1.2")) is True
    assert await adapter.online(APP, [UserId("7")]) == []

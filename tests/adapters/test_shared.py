"""One suite, every adapter: the local one and the Redis one (real Redis) behave alike."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from opbx.adapters.base import Adapter, ChannelCounts, Occupancy
from opbx.adapters.local import LocalAdapter
from opbx.adapters.redis import RedisAdapter
from opbx.protocol.app import AppId
from opbx.protocol.channels import ChannelName
from opbx.protocol.presence import PresenceMember, UserId
from opbx.protocol.session import SocketId
from tests.helpers.polling import eventually
from tests.helpers.recording_handler import RecordingHandler
from tests.helpers.redis import REDIS_URL, delete_prefix, unique_prefix

APP = AppId("1")
ROOM = ChannelName("presence-room")
NEWS = ChannelName("news")

Node = tuple[Adapter, RecordingHandler]
NodeFactory = Callable[[], Awaitable[Node]]


@pytest.fixture(params=["local", "redis"])
async def make_node(request: pytest.FixtureRequest) -> AsyncIterator[NodeFactory]:
    """Nodes of one cluster: any number of Redis adapters on one prefix, or one local adapter."""
    prefix = unique_prefix()
    nodes: list[Adapter] = []

    async def make() -> Node:
        adapter: Adapter = (
            LocalAdapter() if request.param == "local" else RedisAdapter(REDIS_URL, prefix=prefix, node_timeout=3)
        )
        handler = RecordingHandler()
        await adapter.start(handler)
        nodes.append(adapter)
        return adapter, handler

    yield make
    for adapter in nodes:
        await adapter.close()
    if request.param == "redis":
        await delete_prefix(prefix)


def member(user_id: str, info: object = None) -> PresenceMember:
    return PresenceMember(UserId(user_id), info)


async def test_presence_first_and_last_socket_of_a_user(make_node: NodeFactory) -> None:
    adapter, _ = await make_node()
    first = await adapter.add_member(APP, ROOM, SocketId("1.1"), member("7", {"n": 1}), 100)
    assert (first.accepted, first.first, first.members) == (True, True, {"7": {"n": 1}})
    again = await adapter.add_member(APP, ROOM, SocketId("1.2"), member("7", {"n": 2}), 100)
    assert (again.first, again.members) == (False, {"7": {"n": 1}})
    assert await adapter.remove_member(APP, ROOM, SocketId("1.1"), UserId("7")) is False
    assert await adapter.remove_member(APP, ROOM, SocketId("1.1"), UserId("7")) is False
    assert await adapter.remove_member(APP, ROOM, SocketId("1.2"), UserId("7")) is True
    assert await adapter.members(APP, ROOM) == {}


async def test_a_full_roster_refuses_new_users_only(make_node: NodeFactory) -> None:
    adapter, _ = await make_node()
    await adapter.add_member(APP, ROOM, SocketId("1.1"), member("1"), 1)
    refused = await adapter.add_member(APP, ROOM, SocketId("1.2"), member("2"), 1)
    assert (refused.accepted, refused.members) == (False, {"1": None})
    assert (await adapter.add_member(APP, ROOM, SocketId("1.3"), member("1"), 1)).accepted


async def test_occupancy_and_counts(make_node: NodeFactory) -> None:
    adapter, _ = await make_node()
    assert await adapter.add_connection(APP, SocketId("1.1")) == 1
    assert await adapter.add_connection(APP, SocketId("1.2")) == 2
    await adapter.remove_connection(APP, SocketId("1.1"))
    assert await adapter.add_connection(APP, SocketId("1.3")) == 2
    assert await adapter.subscribe(APP, ROOM, SocketId("1.2")) == Occupancy(1, True)
    assert await adapter.subscribe(APP, ROOM, SocketId("1.2")) == Occupancy(1, False)
    assert await adapter.subscribe(APP, NEWS, SocketId("1.2")) == Occupancy(1, True)
    assert await adapter.subscribe(APP, NEWS, SocketId("1.3")) == Occupancy(2, False)
    await adapter.add_member(APP, ROOM, SocketId("1.2"), member("1"), 10)
    assert await adapter.channels(APP) == {ROOM: ChannelCounts(1, 1), NEWS: ChannelCounts(2)}
    assert await adapter.unsubscribe(APP, NEWS, SocketId("1.2")) == Occupancy(1, False)
    assert await adapter.unsubscribe(APP, NEWS, SocketId("1.3")) == Occupancy(0, True)
    assert await adapter.unsubscribe(APP, NEWS, SocketId("1.3")) == Occupancy(0, False)
    assert await adapter.channel(APP, NEWS) == ChannelCounts(0)
    assert await adapter.channels(AppId("other")) == {}


async def test_users_come_online_with_their_first_socket(make_node: NodeFactory) -> None:
    adapter, _ = await make_node()
    assert await adapter.sign_in(APP, UserId("7"), SocketId("1.1")) is True
    assert await adapter.sign_in(APP, UserId("7"), SocketId("1.2")) is False
    assert await adapter.online(APP, [UserId("7"), UserId("8")]) == ["7"]
    assert await adapter.sign_out(APP, UserId("7"), SocketId("1.1")) is False
    assert await adapter.sign_out(APP, UserId("7"), SocketId("1.2")) is True
    assert await adapter.online(APP, [UserId("7")]) == []


async def test_cache(make_node: NodeFactory) -> None:
    adapter, _ = await make_node()
    assert await adapter.cache_get(APP, ChannelName("cache-a")) is None
    await adapter.cache_set(APP, ChannelName("cache-a"), b"last", ttl=60)
    assert await adapter.cache_get(APP, ChannelName("cache-a")) == b"last"


def reached_once(handler: RecordingHandler) -> bool:
    return len(handler.delivered) == 1 and len(handler.terminated) == 1


async def test_publish_and_terminate_reach_every_node_once(make_node: NodeFactory) -> None:
    first, first_handler = await make_node()
    nodes: list[Node]
    if isinstance(first, LocalAdapter):
        nodes = [(first, first_handler)]
    else:
        nodes = [(first, first_handler), await make_node(), await make_node()]
    await first.publish(APP, NEWS, b'{"event":"e"}', SocketId("1.1"))
    await first.terminate_user(APP, UserId("7"))
    for _, handler in nodes:
        await eventually(functools.partial(reached_once, handler), "the publish and the termination reached the node")
        assert handler.delivered == [("1", "news", b'{"event":"e"}', "1.1")]
        assert handler.terminated == [("1", "7")]
    await asyncio.sleep(0.1)  # a moment in which nothing more may arrive
    assert all(len(handler.delivered) == 1 for _, handler in nodes)  # no echo, no double delivery

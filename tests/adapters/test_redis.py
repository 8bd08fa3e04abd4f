"""The Redis adapter's parts against the real Redis: keys, scripts, bus envelopes, leases, mirror."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from opbx.adapters.base import AdapterUnavailable, ChannelCounts, Occupancy
from opbx.adapters.local import AppSnapshot, LocalAdapter
from opbx.adapters.redis import RedisAdapter
from opbx.adapters.redis.bus import Publish, Terminate, decode, encode_publish, encode_terminate
from opbx.adapters.redis.keys import UNCAPPED, EntryKind, EnvelopeKind, Keys, entry
from opbx.adapters.redis.scripts import Script, source
from opbx.adapters.redis.store import SharedState
from opbx.protocol.app import AppId
from opbx.protocol.channels import ChannelName
from opbx.protocol.presence import PresenceMember, UserId
from opbx.protocol.session import SocketId
from opbx.redis_client import open_redis
from tests.helpers.polling import eventually
from tests.helpers.recording_handler import RecordingHandler
from tests.helpers.redis import REDIS_URL, unique_prefix

APP = AppId("1")
ROOM = ChannelName("presence-room")
NEWS = ChannelName("news")


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    """A key prefix of the test's own in the real Redis (so the test is marked ``redis``)."""
    return redis_prefix


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.Redis]:
    client = redis.from_url(redis_url)
    yield client
    await client.aclose()


# -- keys and kinds ---------------------------------------------------------------------


def test_the_key_scheme() -> None:
    keys = Keys("P")
    assert (keys.bus, keys.nodes, keys.owned("n1"), keys.reaping("n1")) == (
        "P:bus",
        "P:nodes",
        "P:node:n1:owned",
        "P:reaping:n1",
    )
    assert keys.connections(APP) == "P:1:conns"
    assert keys.channels(APP) == "P:1:channels"
    assert keys.subscriptions(APP, NEWS) == "P:1:subs:news"
    roster = keys.presence(APP, ROOM)
    assert (roster.sockets, roster.counts, roster.info) == (
        "P:1:presence:presence-room:sockets",
        "P:1:presence:presence-room:counts",
        "P:1:presence:presence-room:info",
    )
    assert keys.users(APP, UserId("7")) == "P:1:users:7"
    assert keys.cache(APP, ChannelName("cache-a")) == "P:1:cache:cache-a"


def test_the_kinds_keep_their_wire_letters() -> None:
    """Nodes of two versions share Redis during a rolling upgrade: the letters may not change."""
    assert [kind.value for kind in EntryKind] == ["m", "s", "u", "c"]
    assert [kind.value for kind in EnvelopeKind] == ["p", "t"]
    assert entry(EntryKind.MEMBER, "1", "presence-room", "1.1", "7") == '["m","1","presence-room","1.1","7"]'
    assert UNCAPPED == 2**31


@pytest.mark.parametrize("script", list(Script))
def test_every_script_ships_with_its_keys_and_argv_documented(script: Script) -> None:
    lines = source(script).splitlines()
    documented = "\n".join(line for line in lines if line.startswith("--"))
    body = "\n".join(line for line in lines if not line.startswith("--"))
    used_keys, used_args = set(re.findall(r"KEYS\[\d\]", body)), set(re.findall(r"ARGV\[\d\]", body))
    assert used_keys
    assert all(key in documented for key in used_keys)
    assert all(arg in documented for arg in used_args)
    assert "Returns" in documented


# -- bus envelopes ----------------------------------------------------------------------


def test_envelopes_round_trip() -> None:
    published = encode_publish("n1", APP, NEWS, b'{"event":"e"}', SocketId("1.1"))
    assert published == b'["p","n1","1","news","1.1","{\\"event\\":\\"e\\"}"]'
    assert decode(published) == Publish("n1", APP, NEWS, SocketId("1.1"), b'{"event":"e"}')
    assert decode(encode_publish("n1", APP, NEWS, b"{}", None)) == Publish("n1", APP, NEWS, None, b"{}")
    assert decode(encode_terminate("n1", APP, UserId("7"))) == Terminate("n1", APP, UserId("7"))


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"{}", b"[]", b'["p","n1"]', b'["x","n1","1","7"]', b'["t","n1","1",7]', b'["p",1,"1","c",null,"m"]'],
)
def test_malformed_envelopes_are_refused(raw: bytes) -> None:
    assert decode(raw) is None


async def test_the_bus_skips_its_own_echo_and_malformed_messages(prefix: str) -> None:
    adapter = RedisAdapter(REDIS_URL, prefix=prefix, node_id="me")
    handler = RecordingHandler()
    adapter.bus.handler = handler
    adapter.bus.received(encode_publish("me", APP, NEWS, b"{}", None))
    adapter.bus.received(b"garbage")
    adapter.bus.received(encode_publish("other", APP, NEWS, b"{}", None))
    adapter.bus.received(encode_terminate("other", APP, UserId("7")))
    assert handler.delivered == [("1", "news", b"{}", None)]
    assert handler.terminated == [("1", "7")]
    await adapter.close()


# -- leases and the reaper --------------------------------------------------------------


async def test_a_dead_nodes_state_is_reaped_and_its_transitions_announced(prefix: str, client: redis.Redis) -> None:
    # A node that wrote its state, beat once and then went silent, as a SIGKILLed process does.
    dead_client = open_redis(REDIS_URL)
    dead = SharedState(dead_client, Keys(prefix))
    await dead.heartbeat("dead")
    await dead.connect("dead", APP, SocketId("9.1"))
    await dead.subscribe("dead", APP, ROOM, SocketId("9.1"))
    await dead.add_member("dead", APP, ROOM, SocketId("9.1"), PresenceMember(UserId("7"), {"n": 1}), 10)
    await dead.sign_in("dead", APP, UserId("7"), SocketId("9.1"))
    await dead_client.aclose()
    assert await client.scard(f"{prefix}:node:dead:owned") == 4

    survivor = RedisAdapter(REDIS_URL, prefix=prefix, node_id="survivor", node_timeout=0.6)
    handler = RecordingHandler()
    await survivor.start(handler)
    try:
        await eventually(lambda: bool(handler.vacated), "the survivor reaped the dead node")  # within a lease
        assert handler.members_left == [("1", "presence-room", "7")]
        assert handler.vacated == [("1", "presence-room")]
        assert await survivor.channels(APP) == {}
        assert await survivor.online(APP, [UserId("7")]) == []
        assert await survivor.add_connection(APP, SocketId("1.1")) == 1  # the dead socket is no longer counted
        assert not await client.exists(f"{prefix}:node:dead:owned", f"{prefix}:reaping:dead")
        assert await client.zscore(f"{prefix}:nodes", "dead") is None
    finally:
        await survivor.close()


async def test_a_clean_close_removes_the_nodes_state_without_announcing(prefix: str, client: redis.Redis) -> None:
    first, second = RedisAdapter(REDIS_URL, prefix=prefix), RedisAdapter(REDIS_URL, prefix=prefix)
    handler = RecordingHandler()
    await first.start(handler)
    await second.start(RecordingHandler())
    await second.add_member(APP, ROOM, SocketId("2.1"), PresenceMember(UserId("7"), None), 10)
    await second.subscribe(APP, ROOM, SocketId("2.1"))
    await second.close()
    assert await first.channel(APP, ROOM) == ChannelCounts(0, 0)
    assert await client.zscore(f"{prefix}:nodes", second.node_id) is None
    assert (handler.members_left, handler.vacated) == ([], [])
    await first.close()


async def test_a_lost_lease_is_counted_and_the_state_written_again(prefix: str, client: redis.Redis) -> None:
    adapter = RedisAdapter(REDIS_URL, prefix=prefix, node_timeout=60)
    await adapter.start(RecordingHandler())
    try:
        await adapter.subscribe(APP, NEWS, SocketId("1.1"))
        await adapter.sign_in(APP, UserId("7"), SocketId("1.1"))
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        await client.delete(*keys)  # Redis restarted empty, or a replica without them was promoted
        await adapter.leases.beat()
        assert adapter.leases_lost == 1
        assert await adapter.channel(APP, NEWS) == ChannelCounts(1)
        assert await adapter.online(APP, [UserId("7")]) == ["7"]
    finally:
        await adapter.close()


# -- the outage mirror ------------------------------------------------------------------


async def test_the_local_snapshot_lists_every_recorded_socket() -> None:
    local = LocalAdapter()
    await local.add_connection(APP, SocketId("1.1"))
    await local.subscribe(APP, ROOM, SocketId("1.1"))
    await local.add_member(APP, ROOM, SocketId("1.1"), PresenceMember(UserId("7"), {"n": 1}), 10)
    await local.sign_in(APP, UserId("7"), SocketId("1.1"))
    await local.cache_set(APP, ChannelName("cache-a"), b"x", 60)
    assert local.snapshot() == [
        AppSnapshot(
            app_id=APP,
            connections=(SocketId("1.1"),),
            subscriptions=((ROOM, SocketId("1.1")),),
            members=((ROOM, SocketId("1.1"), PresenceMember(UserId("7"), {"n": 1})),),
            users=((UserId("7"), SocketId("1.1")),),
        )
    ]


async def test_while_redis_is_away_changes_answer_from_the_mirror_and_queries_refuse() -> None:
    with_nothing = "redis://127.0.0.1:1/0"  # port 1: nobody listens, connections are refused
    adapter = RedisAdapter(with_nothing, prefix=unique_prefix())
    await adapter.start(RecordingHandler())
    try:
        assert adapter.healthy is False
        assert await adapter.subscribe(APP, NEWS, SocketId("1.1")) == Occupancy(1, True)
        assert (await adapter.add_member(APP, ROOM, SocketId("1.1"), PresenceMember(UserId("7"), None), 1)).first
        refused = await adapter.add_member(APP, ROOM, SocketId("1.2"), PresenceMember(UserId("8"), None), 1)
        assert refused.accepted is False  # the mirror keeps the cap for this node's sockets
        with pytest.raises(AdapterUnavailable):
            await adapter.channels(APP)
        assert adapter.mirror.dirty is True
    finally:
        await adapter.close()


async def test_the_mirror_writes_back_what_was_changed_while_redis_was_away(prefix: str) -> None:
    adapter = RedisAdapter(REDIS_URL, prefix=prefix)
    await adapter.start(RecordingHandler())
    try:
        adapter.mirror.failed("a test", OSError("cut"))
        # Recorded only in the mirror, as while Redis was away:
        await adapter.mirror.local.subscribe(APP, NEWS, SocketId("1.1"))
        await adapter.mirror.local.add_member(APP, ROOM, SocketId("1.1"), PresenceMember(UserId("7"), {"n": 1}), 1)
        await adapter.mirror.reassert()
        assert adapter.mirror.dirty is False
        assert await adapter.channel(APP, NEWS) == ChannelCounts(1)
        assert await adapter.members(APP, ROOM) == {"7": {"n": 1}}
    finally:
        await adapter.close()

"""The Redis adapter: many processes and machines, one cluster-wide truth.

Design (why it is this one: ``docs/scaling.md``):

* **State lives in Redis, changed only by Lua scripts**, so each change and the answer
  it gives (first socket of a user? channel now vacant?) are atomic across the cluster:
  exactly one node sees each transition and fires its event and webhook once.
* **Every entry a node writes is also listed in that node's ``owned`` set**, and every
  node renews a lease (a score in the ``nodes`` sorted set, on Redis's clock). When a
  node stops renewing (SIGKILL, network cut), a surviving node claims it, removes its
  entries through the same scripts, and broadcasts ``member_removed`` (and fires the
  webhooks) for each real transition. With ``node_timeout`` = 15 s a dead node's members
  are gone within 20 s.
* **Messages travel on one pub/sub channel.** The publishing node delivers to its own
  sockets at once and skips its own echo; every other node delivers to its sockets;
  each subscriber gets each message once.
* **Redis down or restarted**: the node keeps serving its local sockets (an embedded
  :class:`~opbx.adapters.local.LocalAdapter` mirrors this node's own state and answers
  while Redis is away), reconnects with backoff, and then re-asserts its whole mirror
  (connections, subscriptions, members, users) silently, so the cluster state is whole
  again. Cluster-wide queries answer an error while Redis is down, never a partial list.

Keys, all under the configured prefix ``P`` (several deployments may share one Redis):
``P:nodes`` (zset), ``P:node:{id}:owned`` (set), ``P:{app}:conns`` (hash socket->node),
``P:{app}:channels`` (set), ``P:{app}:subs:{channel}`` (hash socket->node),
``P:{app}:presence:{channel}:sockets|counts|info`` (hashes), ``P:{app}:users:{user}`` (set),
``P:{app}:cache:{channel}`` (string with TTL), and the pub/sub channel ``P:bus``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import orjson
from redis.exceptions import RedisError

from opbx.adapters.base import (
    Adapter,
    AdapterHandler,
    AdapterUnavailable,
    ChannelCounts,
    Occupancy,
    PresenceJoin,
)
from opbx.adapters.local import LocalAdapter
from opbx.protocol.app import AppId
from opbx.protocol.channels import ChannelName, channel_type
from opbx.protocol.presence import PresenceMember, UserId
from opbx.protocol.session import SocketId
from opbx.redis_client import open_redis

__all__ = ["RedisAdapter"]

log = logging.getLogger("opbx.adapters.redis")

T = TypeVar("T")


# -- Lua: every change of shared state, atomic, recorded in the node's owned set --------

_CONNECT = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return redis.call('HLEN', KEYS[1])
"""

_DISCONNECT = """
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1
"""

_SUBSCRIBE = """
local added = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local count = redis.call('HLEN', KEYS[1])
redis.call('SADD', KEYS[3], ARGV[4])
if added == 1 and count == 1 then
  redis.call('SADD', KEYS[2], ARGV[3])
  return {count, 1}
end
return {count, 0}
"""

_UNSUBSCRIBE = """
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
local count = redis.call('HLEN', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[3])
if removed == 1 and count == 0 then
  redis.call('SREM', KEYS[2], ARGV[2])
  return {0, 1}
end
return {count, 0}
"""

_ADD_MEMBER = """
local sockets, counts, info, owned = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local socket, user, user_info, max, entry = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
if redis.call('HEXISTS', sockets, socket) == 1 then
  return {1, 0, redis.call('HGETALL', info)}
end
if not redis.call('HGET', counts, user) and redis.call('HLEN', info) >= max then
  return {0, 0, redis.call('HGETALL', info)}
end
redis.call('HSET', sockets, socket, user)
local n = redis.call('HINCRBY', counts, user, 1)
if n == 1 then
  redis.call('HSET', info, user, user_info)
end
redis.call('SADD', owned, entry)
return {1, n == 1 and 1 or 0, redis.call('HGETALL', info)}
"""

_REMOVE_MEMBER = """
local sockets, counts, info, owned = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local socket, entry = ARGV[1], ARGV[2]
redis.call('SREM', owned, entry)
local user = redis.call('HGET', sockets, socket)
if not user then
  return 0
end
redis.call('HDEL', sockets, socket)
local n = redis.call('HINCRBY', counts, user, -1)
if n <= 0 then
  redis.call('HDEL', counts, user)
  redis.call('HDEL', info, user)
  return 1
end
return 0
"""

_SIGN_IN = """
local added = redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
if added == 1 and redis.call('SCARD', KEYS[1]) == 1 then
  return 1
end
return 0
"""

_SIGN_OUT = """
local removed = redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
if removed == 1 and redis.call('SCARD', KEYS[1]) == 0 then
  return 1
end
return 0
"""

# Renew this node's lease on Redis's clock; 1 when the node was unknown (first beat, or
# Redis restarted, or the node was reaped while it was paused).
_HEARTBEAT = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
return redis.call('ZADD', KEYS[1], ms, ARGV[1])
"""

_DEAD_NODES = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[1]))
"""

_BACKOFF_MAX = 10.0


class RedisAdapter:
    """A cluster of realtime nodes over one Redis."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "opbx",
        node_timeout: float = 15.0,
        node_id: str | None = None,
    ) -> None:
        self.node_id = node_id or secrets.token_hex(6)
        self.leases_lost = 0
        """Times the heartbeat found this node's lease gone (see :meth:`_beat`)."""
        self.url = url
        self.prefix = prefix
        """The deployment's key prefix: what else the cluster keeps in this Redis goes under it too."""
        self._timeout = node_timeout
        self._redis = open_redis(url)
        self._mirror = LocalAdapter()
        """This node's own state, for re-asserting it and for answering while Redis is away."""
        self._handler: AdapterHandler | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._pubsub: Any = None
        self._closing = False
        self._healthy = False
        self._dirty = False
        """Redis may have lost or missed some of this node's state: write it all again."""
        self._started = False
        self._reasserting = asyncio.Lock()
        self._scripts = {
            name: self._redis.register_script(source)
            for name, source in (
                ("connect", _CONNECT),
                ("disconnect", _DISCONNECT),
                ("subscribe", _SUBSCRIBE),
                ("unsubscribe", _UNSUBSCRIBE),
                ("add_member", _ADD_MEMBER),
                ("remove_member", _REMOVE_MEMBER),
                ("sign_in", _SIGN_IN),
                ("sign_out", _SIGN_OUT),
                ("heartbeat", _HEARTBEAT),
                ("dead_nodes", _DEAD_NODES),
            )
        }

    # -- keys ---------------------------------------------------------------------

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    @property
    def _bus(self) -> str:
        return self._key("bus")

    def _owned(self, node: str | None = None) -> str:
        return self._key("node", node or self.node_id, "owned")

    @staticmethod
    def _entry(*parts: str) -> str:
        return orjson.dumps(parts).decode()

    def _presence_keys(self, app_id: AppId, channel: ChannelName) -> list[str]:
        base = (app_id, "presence", channel)
        return [self._key(*base, "sockets"), self._key(*base, "counts"), self._key(*base, "info")]

    @property
    def healthy(self) -> bool:
        """Whether Redis answered the last time it was asked."""
        return self._healthy

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, handler: AdapterHandler) -> None:
        self._handler = handler
        await self._mirror.start(handler)
        try:
            await self._beat()
        except RedisError as exc:
            log.warning("Redis unreachable at start (%s); serving local sockets until it answers", exc)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen()), loop.create_task(self._keep_alive())]

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        _, pending = await asyncio.wait(self._tasks, timeout=1) if self._tasks else (set(), set())
        if self._pubsub is not None:
            # redis-py's retrying read can swallow a cancellation; closing its connection ends it.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pubsub.aclose(), 2)
        if pending:
            await asyncio.wait(pending, timeout=2)
        with contextlib.suppress(RedisError, TimeoutError):
            await asyncio.wait_for(self._release_all(), 10)
        await self._redis.aclose()

    async def _release_all(self) -> None:
        """A clean goodbye: remove this node's entries now rather than waiting for a reaper."""
        await self._reap(self.node_id, announce=False)

    # -- calling Redis ----------------------------------------------------------------

    def _failed(self, what: str, exc: Exception) -> None:
        if self._healthy:
            log.warning("%s failed (%s); serving this node's sockets until Redis is back", what, exc)
        self._healthy = False
        self._dirty = True

    async def _shared(self, call: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]) -> T:
        """Run a change on Redis; while Redis is away, answer from this node's mirror."""
        try:
            result = await call()
        except RedisError as exc:
            self._failed("a Redis call", exc)
            return await fallback()
        return result

    async def _query(self, call: Callable[[], Awaitable[T]]) -> T:
        """A cluster-wide read: an error while Redis is away, never a partial answer."""
        try:
            return await call()
        except RedisError as exc:
            self._failed("a cluster-wide query", exc)
            raise AdapterUnavailable(f"Redis is unreachable: {exc}") from exc

    # -- the bus ----------------------------------------------------------------------

    async def publish(
        self, app_id: AppId, channel: ChannelName, message: bytes, except_socket: SocketId | None = None
    ) -> None:
        if self._handler is not None:
            self._handler.deliver(app_id, channel, message, except_socket)
        envelope = orjson.dumps(["p", self.node_id, app_id, channel, except_socket, message.decode()])
        try:
            await self._redis.publish(self._bus, envelope)
        except RedisError as exc:
            self._failed("publishing to other nodes", exc)

    async def terminate_user(self, app_id: AppId, user_id: UserId) -> None:
        if self._handler is not None:
            self._handler.terminate_user(app_id, user_id)
        envelope = orjson.dumps(["t", self.node_id, app_id, user_id])
        try:
            await self._redis.publish(self._bus, envelope)
        except RedisError as exc:
            raise AdapterUnavailable(f"Redis is unreachable: {exc}") from exc

    def _on_bus(self, raw: bytes) -> None:
        try:
            envelope = orjson.loads(raw)
        except orjson.JSONDecodeError:
            log.warning("ignoring a malformed bus message")
            return
        if not isinstance(envelope, list) or len(envelope) < 2 or envelope[1] == self.node_id:
            return
        handler = self._handler
        if handler is None:
            return
        if envelope[0] == "p" and len(envelope) == 6:
            _, _, app_id, channel, except_socket, message = envelope
            handler.deliver(AppId(app_id), ChannelName(channel), message.encode(), except_socket)
        elif envelope[0] == "t" and len(envelope) == 4:
            handler.terminate_user(AppId(envelope[2]), UserId(envelope[3]))

    async def _listen(self) -> None:
        """Receive the bus; on any failure reconnect with backoff and re-assert our state."""
        delay = 0.1
        while True:
            pubsub = self._pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._bus)
                if self._dirty:
                    await self._reassert()
                delay = 0.1
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._on_bus(message["data"])
            except (RedisError, OSError) as exc:
                if self._closing:  # redis-py may turn our cancellation into a connection error
                    return
                self._failed("the Redis bus", exc)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                await asyncio.sleep(delay)
                delay = min(_BACKOFF_MAX, delay * 2)

    # -- leases and reaping ----------------------------------------------------------

    async def _beat(self) -> None:
        unknown = await self._scripts["heartbeat"](keys=[self._key("nodes")], args=[self.node_id])
        self._healthy = True
        if unknown and self._started:
            # Our lease was lost while we were alive (paused, or Redis restarted):
            # our entries may be gone, so write them all again.
            log.warning("node %s was unknown to Redis; re-asserting its state", self.node_id)
            self.leases_lost += 1
            self._dirty = True
        self._started = True
        if self._dirty:
            await self._reassert()

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self._timeout / 3)
            try:
                await self._beat()
                await self._reap_dead()
            except RedisError as exc:
                if self._closing:
                    return
                self._failed("the heartbeat", exc)

    async def _reap_dead(self) -> None:
        dead = await self._scripts["dead_nodes"](keys=[self._key("nodes")], args=[int(self._timeout * 1000)])
        for raw in dead:
            node = _text(raw)
            if node == self.node_id:
                continue
            claimed = await self._redis.set(self._key("reaping", node), self.node_id, nx=True, px=60_000)
            if claimed:
                log.warning("node %s stopped renewing its lease; removing its sockets", node)
                await self._reap(node, announce=True)

    async def _reap(self, node: str, *, announce: bool) -> None:
        """Remove every entry ``node`` owned; announce each real transition when it died."""
        owned = self._owned(node)
        entries = [orjson.loads(raw) for raw in await self._redis.smembers(owned)]
        order = {"m": 0, "s": 1, "u": 2, "c": 3}
        for entry in sorted(entries, key=lambda item: order.get(item[0], 9)):
            kind = entry[0]
            if kind == "m":
                _, app_id, channel, socket_id, user_id = entry
                last = await self._remove_member_shared(
                    AppId(app_id), ChannelName(channel), SocketId(socket_id), UserId(user_id), node
                )
                if last and announce and self._handler is not None:
                    self._handler.member_left(AppId(app_id), ChannelName(channel), UserId(user_id))
            elif kind == "s":
                _, app_id, channel, socket_id = entry
                vacated = await self._unsubscribe_shared(AppId(app_id), ChannelName(channel), SocketId(socket_id), node)
                if vacated.changed and announce and self._handler is not None:
                    self._handler.channel_vacated(AppId(app_id), ChannelName(channel))
            elif kind == "u":
                _, app_id, user_id, socket_id = entry
                await self._sign_out_shared(AppId(app_id), UserId(user_id), SocketId(socket_id), node)
            elif kind == "c":
                _, app_id, socket_id = entry
                await self._scripts["disconnect"](
                    keys=[self._key(app_id, "conns"), owned], args=[socket_id, self._entry("c", app_id, socket_id)]
                )
        await self._redis.delete(owned)
        await self._redis.zrem(self._key("nodes"), node)
        if node != self.node_id:
            await self._redis.delete(self._key("reaping", node))

    async def _reassert(self) -> None:
        """Write this node's whole state to Redis again (after Redis lost it), silently."""
        async with self._reasserting:
            if self._dirty:
                await self._write_mirror()
                self._dirty = False
                log.info("node %s re-asserted its state in Redis", self.node_id)

    async def _write_mirror(self) -> None:
        await self._scripts["heartbeat"](keys=[self._key("nodes")], args=[self.node_id])
        for app_id, state in self._mirror.states():
            for socket_id in state.connections:
                await self._connect_shared(app_id, socket_id)
            for channel, sockets in state.subscriptions.items():
                for socket_id in sockets:
                    await self._subscribe_shared(app_id, channel, socket_id)
            for channel, roster in state.rosters.items():
                for user_id, sockets in roster.sockets.items():
                    member = PresenceMember(user_id, roster.info.get(user_id))
                    for socket_id in sockets:
                        await self._add_member_shared(app_id, channel, socket_id, member, 2**31)
            for user_id, sockets in state.users.items():
                for socket_id in sockets:
                    await self._sign_in_shared(app_id, user_id, socket_id)

    # -- connections ------------------------------------------------------------------

    async def _connect_shared(self, app_id: AppId, socket_id: SocketId) -> int:
        count: int = await self._scripts["connect"](
            keys=[self._key(app_id, "conns"), self._owned()],
            args=[socket_id, self.node_id, self._entry("c", app_id, socket_id)],
        )
        return count

    async def add_connection(self, app_id: AppId, socket_id: SocketId) -> int:
        mirrored = await self._mirror.add_connection(app_id, socket_id)
        return await self._shared(lambda: self._connect_shared(app_id, socket_id), lambda: _value(mirrored))

    async def remove_connection(self, app_id: AppId, socket_id: SocketId) -> None:
        await self._mirror.remove_connection(app_id, socket_id)

        async def call() -> None:
            await self._scripts["disconnect"](
                keys=[self._key(app_id, "conns"), self._owned()], args=[socket_id, self._entry("c", app_id, socket_id)]
            )

        await self._shared(call, lambda: _value(None))

    # -- subscriptions -------------------------------------------------------------------

    async def _subscribe_shared(self, app_id: AppId, channel: ChannelName, socket_id: SocketId) -> Occupancy:
        count, changed = await self._scripts["subscribe"](
            keys=[self._key(app_id, "subs", channel), self._key(app_id, "channels"), self._owned()],
            args=[socket_id, self.node_id, channel, self._entry("s", app_id, channel, socket_id)],
        )
        return Occupancy(count=int(count), changed=bool(changed))

    async def _unsubscribe_shared(
        self, app_id: AppId, channel: ChannelName, socket_id: SocketId, node: str | None = None
    ) -> Occupancy:
        count, changed = await self._scripts["unsubscribe"](
            keys=[self._key(app_id, "subs", channel), self._key(app_id, "channels"), self._owned(node)],
            args=[socket_id, channel, self._entry("s", app_id, channel, socket_id)],
        )
        return Occupancy(count=int(count), changed=bool(changed))

    async def subscribe(self, app_id: AppId, channel: ChannelName, socket_id: SocketId) -> Occupancy:
        mirrored = await self._mirror.subscribe(app_id, channel, socket_id)
        return await self._shared(lambda: self._subscribe_shared(app_id, channel, socket_id), lambda: _value(mirrored))

    async def unsubscribe(self, app_id: AppId, channel: ChannelName, socket_id: SocketId) -> Occupancy:
        mirrored = await self._mirror.unsubscribe(app_id, channel, socket_id)
        return await self._shared(
            lambda: self._unsubscribe_shared(app_id, channel, socket_id), lambda: _value(mirrored)
        )

    # -- presence ------------------------------------------------------------------------

    async def _add_member_shared(
        self, app_id: AppId, channel: ChannelName, socket_id: SocketId, member: PresenceMember, max_members: int
    ) -> PresenceJoin:
        accepted, first, flat = await self._scripts["add_member"](
            keys=[*self._presence_keys(app_id, channel), self._owned()],
            args=[
                socket_id,
                member.user_id,
                orjson.dumps(member.user_info),
                max_members,
                self._entry("m", app_id, channel, socket_id, member.user_id),
            ],
        )
        return PresenceJoin(accepted=bool(accepted), first=bool(first), members=_roster(flat))

    async def _remove_member_shared(
        self, app_id: AppId, channel: ChannelName, socket_id: SocketId, user_id: UserId, node: str | None = None
    ) -> bool:
        last = await self._scripts["remove_member"](
            keys=[*self._presence_keys(app_id, channel), self._owned(node)],
            args=[socket_id, self._entry("m", app_id, channel, socket_id, user_id)],
        )
        return bool(last)

    async def add_member(
        self, app_id: AppId, channel: ChannelName, socket_id: SocketId, member: PresenceMember, max_members: int
    ) -> PresenceJoin:
        async def fallback() -> PresenceJoin:
            return await self._mirror.add_member(app_id, channel, socket_id, member, max_members)

        join = await self._shared(
            lambda: self._add_member_shared(app_id, channel, socket_id, member, max_members), fallback
        )
        if join.accepted and self._healthy:
            await self._mirror.add_member(app_id, channel, socket_id, member, 2**31)
        return join

    async def remove_member(self, app_id: AppId, channel: ChannelName, socket_id: SocketId, user_id: UserId) -> bool:
        mirrored = await self._mirror.remove_member(app_id, channel, socket_id, user_id)
        return await self._shared(
            lambda: self._remove_member_shared(app_id, channel, socket_id, user_id), lambda: _value(mirrored)
        )

    async def members(self, app_id: AppId, channel: ChannelName) -> dict[UserId, object]:
        flat = await self._query(lambda: self._redis.hgetall(self._presence_keys(app_id, channel)[2]))
        return {UserId(_text(user)): orjson.loads(info) for user, info in flat.items()}

    # -- channel queries -----------------------------------------------------------------

    async def channels(self, app_id: AppId) -> dict[ChannelName, ChannelCounts]:
        async def read() -> dict[ChannelName, ChannelCounts]:
            names = sorted(_text(raw) for raw in await self._redis.smembers(self._key(app_id, "channels")))
            async with self._redis.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.hlen(self._key(app_id, "subs", name))
                    pipe.hlen(self._presence_keys(app_id, ChannelName(name))[2])
                counts = await pipe.execute()
            result = {}
            for index, name in enumerate(names):
                subscriptions, users = counts[2 * index], counts[2 * index + 1]
                if subscriptions:
                    presence = channel_type(name).is_presence
                    result[ChannelName(name)] = ChannelCounts(subscriptions, users if presence else None)
            return result

        return await self._query(read)

    async def channel(self, app_id: AppId, channel: ChannelName) -> ChannelCounts:
        async def read() -> ChannelCounts:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hlen(self._key(app_id, "subs", channel))
                pipe.hlen(self._presence_keys(app_id, channel)[2])
                subscriptions, users = await pipe.execute()
            return ChannelCounts(subscriptions, users if channel_type(channel).is_presence else None)

        return await self._query(read)

    # -- signed-in users ----------------------------------------------------------------

    async def _sign_in_shared(self, app_id: AppId, user_id: UserId, socket_id: SocketId) -> bool:
        first = await self._scripts["sign_in"](
            keys=[self._key(app_id, "users", user_id), self._owned()],
            args=[socket_id, self._entry("u", app_id, user_id, socket_id)],
        )
        return bool(first)

    async def _sign_out_shared(
        self, app_id: AppId, user_id: UserId, socket_id: SocketId, node: str | None = None
    ) -> bool:
        last = await self._scripts["sign_out"](
            keys=[self._key(app_id, "users", user_id), self._owned(node)],
            args=[socket_id, self._entry("u", app_id, user_id, socket_id)],
        )
        return bool(last)

    async def sign_in(self, app_id: AppId, user_id: UserId, socket_id: SocketId) -> bool:
        mirrored = await self._mirror.sign_in(app_id, user_id, socket_id)
        return await self._shared(lambda: self._sign_in_shared(app_id, user_id, socket_id), lambda: _value(mirrored))

    async def sign_out(self, app_id: AppId, user_id: UserId, socket_id: SocketId) -> bool:
        mirrored = await self._mirror.sign_out(app_id, user_id, socket_id)
        return await self._shared(lambda: self._sign_out_shared(app_id, user_id, socket_id), lambda: _value(mirrored))

    async def online(self, app_id: AppId, user_ids: Sequence[UserId]) -> list[UserId]:
        async def read() -> list[UserId]:
            async with self._redis.pipeline(transaction=False) as pipe:
                for user_id in user_ids:
                    pipe.exists(self._key(app_id, "users", user_id))
                present = await pipe.execute()
            return [user_id for user_id, exists in zip(user_ids, present, strict=True) if exists]

        return await self._query(read)

    # -- cache channels --------------------------------------------------------------------

    async def cache_set(self, app_id: AppId, channel: ChannelName, message: bytes, ttl: float) -> None:
        await self._mirror.cache_set(app_id, channel, message, ttl)

        async def call() -> None:
            await self._redis.set(self._key(app_id, "cache", channel), message, px=int(ttl * 1000))

        await self._shared(call, lambda: _value(None))

    async def cache_get(self, app_id: AppId, channel: ChannelName) -> bytes | None:
        async def fallback() -> bytes | None:
            return await self._mirror.cache_get(app_id, channel)

        async def call() -> bytes | None:
            value = await self._redis.get(self._key(app_id, "cache", channel))
            return value.encode() if isinstance(value, str) else value

        return await self._shared(call, fallback)


async def _value(value: T) -> T:
    return value


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _roster(flat: list[Any]) -> dict[UserId, object]:
    """``HGETALL``'s flat reply (user, info, user, info...) as a roster."""
    return {UserId(flat[index].decode()): orjson.loads(flat[index + 1]) for index in range(0, len(flat), 2)}


_: type[Adapter] = RedisAdapter

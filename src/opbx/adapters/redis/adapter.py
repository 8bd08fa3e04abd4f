"""The Redis adapter: many processes and machines, one cluster-wide truth.

Design (why it is this one: ``docs/scaling.md``), one module per mechanism:

* **State lives in Redis, changed only by Lua scripts** (``store.py``, ``lua/``), so each
  change and the answer it gives are atomic across the cluster: exactly one node sees
  each transition and fires its event and webhook once.
* **Leases** (``leases.py``): every entry a node writes is listed in its ``owned`` set;
  when a node stops renewing its lease, a survivor removes its entries and announces them.
* **The bus** (``bus.py``): messages travel on one pub/sub channel.
* **The outage mirror** (``mirror.py``): while Redis is away the node serves its own
  sockets from a local copy of its state, and writes it all back once Redis answers.

Keys: ``keys.py``. Redis itself is opened by :func:`opbx.redis_client.open_redis`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from redis.exceptions import RedisError

from opbx.adapters.base import Adapter, AdapterHandler, AdapterUnavailable, ChannelCounts, Occupancy, PresenceJoin
from opbx.adapters.redis.bus import PubSubBus
from opbx.adapters.redis.keys import UNCAPPED, Keys
from opbx.adapters.redis.leases import Leases
from opbx.adapters.redis.mirror import Mirror
from opbx.adapters.redis.store import SharedState
from opbx.protocol.app import AppId
from opbx.protocol.channels import ChannelName
from opbx.protocol.presence import PresenceMember, UserId
from opbx.protocol.session import SocketId
from opbx.redis_client import open_redis

__all__ = ["RedisAdapter"]

log = logging.getLogger("opbx.adapters.redis")

T = TypeVar("T")


class RedisAdapter:
    """A cluster of realtime nodes over one Redis."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "opbx",
        node_timeout: float = 15.0,
        node_id: str | None = None,
        sentinels: Sequence[str] = (),
        sentinel_master: str | None = None,
    ) -> None:
        self.node_id = node_id or secrets.token_hex(6)
        self.url = url
        self.sentinels = tuple(sentinels)
        """``host:port`` of Redis Sentinels; with them, Redis is the master they call ``sentinel_master``."""
        self.sentinel_master = sentinel_master
        self.prefix = prefix
        """The deployment's key prefix: what else the cluster keeps in this Redis goes under it too."""
        self.keys = Keys(prefix)
        self._redis = open_redis(url, sentinels=sentinels, sentinel_master=sentinel_master)
        self.state = SharedState(self._redis, self.keys)
        self.mirror = Mirror(self.state, self.node_id)
        self.leases = Leases(self.state, self.mirror, self.node_id, node_timeout)
        self.bus = PubSubBus(self._redis, self.keys.bus, self.node_id)
        self._handler: AdapterHandler | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def healthy(self) -> bool:
        """Whether Redis answered the last time it was asked."""
        return self.mirror.healthy

    @property
    def leases_lost(self) -> int:
        """Times the heartbeat found this node's lease gone (see :meth:`Leases.beat`)."""
        return self.leases.lost

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, handler: AdapterHandler) -> None:
        self._handler = self.bus.handler = self.leases.handler = handler
        await self.mirror.local.start(handler)
        try:
            await self.leases.beat()
        except RedisError as exc:
            log.warning("Redis unreachable at start (%s); serving local sockets until it answers", exc)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self.bus.listen(self.mirror.reassert, self.mirror.failed)),
            loop.create_task(self.leases.keep_alive()),
        ]

    async def close(self) -> None:
        self.bus.closing = self.leases.closing = True
        for task in self._tasks:
            task.cancel()
        _, pending = await asyncio.wait(self._tasks, timeout=1) if self._tasks else (set(), set())
        await self.bus.close()
        if pending:
            await asyncio.wait(pending, timeout=2)
        with contextlib.suppress(RedisError, TimeoutError):
            # A clean goodbye: remove this node's entries now rather than waiting for a reaper.
            await asyncio.wait_for(self.leases.reap(self.node_id, announce=False), 10)
        await self._redis.aclose()

    # -- the bus --------------------------------------------------------------------------

    async def publish(
        self, app_id: AppId, channel: ChannelName, message: bytes, except_socket: SocketId | None = None
    ) -> None:
        if self._handler is not None:
            self._handler.deliver(app_id, channel, message, except_socket)
        try:
            await self.bus.publish(app_id, channel, message, except_socket)
        except RedisError as exc:
            self.mirror.failed("publishing to other nodes", exc)

    async def terminate_user(self, app_id: AppId, user_id: UserId) -> None:
        if self._handler is not None:
            self._handler.terminate_user(app_id, user_id)
        try:
            await self.bus.terminate_user(app_id, user_id)
        except RedisError as exc:
            raise AdapterUnavailable(f"Redis is unreachable: {exc}") from exc

    # -- connections and subscriptions ----------------------------------------------------

    async def add_connection(self, app_id: AppId, socket_id: SocketId) -> int:
        mirrored = await self.mirror.local.add_connection(app_id, socket_id)
        return await self.mirror.change(lambda: self.state.connect(self.node_id, app_id, socket_id), _value(mirrored))

    async def remove_connection(self, app_id: AppId, socket_id: SocketId) -> None:
        await self.mirror.local.remove_connection(app_id, socket_id)
        await self.mirror.change(lambda: self.state.disconnect(self.node_id, app_id, socket_id), _value(None))

    async def subscribe(self, app_id: AppId, channel: ChannelName, socket_id: SocketId) -> Occupancy:
        mirrored = await self.mirror.local.subscribe(app_id, channel, socket_id)
        return await self.mirror.change(
            lambda: self.state.subscribe(self.node_id, app_id, channel, socket_id), _value(mirrored)
        )

    async def unsubscribe(self, app_id: AppId, channel: ChannelName, socket_id: SocketId) -> Occupancy:
        mirrored = await self.mirror.local.unsubscribe(app_id, channel, socket_id)
        return await self.mirror.change(
            lambda: self.state.unsubscribe(self.node_id, app_id, channel, socket_id), _value(mirrored)
        )

    async def channels(self, app_id: AppId) -> dict[ChannelName, ChannelCounts]:
        return await self.mirror.query(lambda: self.state.channels(app_id))

    async def channel(self, app_id: AppId, channel: ChannelName) -> ChannelCounts:
        return await self.mirror.query(lambda: self.state.channel(app_id, channel))

    # -- presence -------------------------------------------------------------------------

    async def add_member(
        self, app_id: AppId, channel: ChannelName, socket_id: SocketId, member: PresenceMember, max_members: int
    ) -> PresenceJoin:
        join = await self.mirror.change(
            lambda: self.state.add_member(self.node_id, app_id, channel, socket_id, member, max_members),
            lambda: self.mirror.local.add_member(app_id, channel, socket_id, member, max_members),
        )
        if join.accepted and self.mirror.healthy:
            # Redis admitted it under the cluster's cap: the mirror records it, whatever its own count.
            await self.mirror.local.add_member(app_id, channel, socket_id, member, UNCAPPED)
        return join

    async def remove_member(self, app_id: AppId, channel: ChannelName, socket_id: SocketId, user_id: UserId) -> bool:
        mirrored = await self.mirror.local.remove_member(app_id, channel, socket_id, user_id)
        return await self.mirror.change(
            lambda: self.state.remove_member(self.node_id, app_id, channel, socket_id, user_id), _value(mirrored)
        )

    async def members(self, app_id: AppId, channel: ChannelName) -> dict[UserId, object]:
        return await self.mirror.query(lambda: self.state.members(app_id, channel))

    # -- signed-in users ------------------------------------------------------------------

    async def sign_in(self, app_id: AppId, user_id: UserId, socket_id: SocketId) -> bool:
        mirrored = await self.mirror.local.sign_in(app_id, user_id, socket_id)
        return await self.mirror.change(
            lambda: self.state.sign_in(self.node_id, app_id, user_id, socket_id), _value(mirrored)
        )

    async def sign_out(self, app_id: AppId, user_id: UserId, socket_id: SocketId) -> bool:
        mirrored = await self.mirror.local.sign_out(app_id, user_id, socket_id)
        return await self.mirror.change(
            lambda: self.state.sign_out(self.node_id, app_id, user_id, socket_id), _value(mirrored)
        )

    async def online(self, app_id: AppId, user_ids: Sequence[UserId]) -> list[UserId]:
        return await self.mirror.query(lambda: self.state.online(app_id, user_ids))

    # -- cache channels -------------------------------------------------------------------

    async def cache_set(self, app_id: AppId, channel: ChannelName, message: bytes, ttl: float) -> None:
        await self.mirror.local.cache_set(app_id, channel, message, ttl)
        await self.mirror.change(lambda: self.state.cache_set(app_id, channel, message, ttl), _value(None))

    async def cache_get(self, app_id: AppId, channel: ChannelName) -> bytes | None:
        return await self.mirror.change(
            lambda: self.state.cache_get(app_id, channel), lambda: self.mirror.local.cache_get(app_id, channel)
        )


def _value(value: T) -> Callable[[], Awaitable[T]]:
    """A fallback that answers ``value``: what the mirror said before Redis was asked."""

    async def answer() -> T:
        return value

    return answer


_: type[Adapter] = RedisAdapter

"""Riding out a Redis outage: this node's own state, kept beside Redis and written back.

Every change this node makes goes to a :class:`~opbx.adapters.local.LocalAdapter` (the
mirror) and to Redis. While Redis is away (down, restarting, failing over), changes are
answered from the mirror, so the node keeps serving its own sockets; cluster-wide reads
raise :class:`~opbx.adapters.base.AdapterUnavailable` instead of a partial answer. Once
Redis answers again, the node writes its whole mirror back (``reassert``), silently, so
the cluster's state is whole again: a restarted Redis comes back empty, a promoted replica
may lack the last writes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import RedisError

from opbx.adapters.base import AdapterUnavailable
from opbx.adapters.local import LocalAdapter
from opbx.adapters.redis.keys import UNCAPPED
from opbx.adapters.redis.store import SharedState

__all__ = ["Mirror"]

log = logging.getLogger("opbx.adapters.redis")

T = TypeVar("T")


class Mirror:
    """This node's state and whether Redis has all of it."""

    def __init__(self, state: SharedState, node_id: str) -> None:
        self.local = LocalAdapter()
        """This node's own state: answers while Redis is away, and is what ``reassert`` writes."""
        self.healthy = False
        """Whether Redis answered the last time it was asked."""
        self.dirty = False
        """Redis may have lost or missed some of this node's state: write it all again."""
        self._state = state
        self._node_id = node_id
        self._writing = asyncio.Lock()

    def failed(self, what: str, exc: Exception) -> None:
        """Redis did not answer ``what``: serve locally and write everything once it is back."""
        if self.healthy:
            log.warning("%s failed (%s); serving this node's sockets until Redis is back", what, exc)
        self.healthy = False
        self.dirty = True

    async def change(self, call: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]) -> T:
        """Run a change on Redis; while Redis is away, answer with ``fallback`` (the mirror's)."""
        try:
            return await call()
        except RedisError as exc:
            self.failed("a Redis call", exc)
            return await fallback()

    async def query(self, call: Callable[[], Awaitable[T]]) -> T:
        """A cluster-wide read: an error while Redis is away, never a partial answer."""
        try:
            return await call()
        except RedisError as exc:
            self.failed("a cluster-wide query", exc)
            raise AdapterUnavailable(f"Redis is unreachable: {exc}") from exc

    async def reassert(self) -> None:
        """Write this node's whole state to Redis again if Redis may lack some of it."""
        async with self._writing:
            if self.dirty:
                await self._write()
                self.dirty = False
                log.info("node %s re-asserted its state in Redis", self._node_id)

    async def _write(self) -> None:
        node, state = self._node_id, self._state
        await state.heartbeat(node)  # known before its entries, so no reaper takes them for a dead node's
        for app in self.local.snapshot():
            for socket_id in app.connections:
                await state.connect(node, app.app_id, socket_id)
            for channel, socket_id in app.subscriptions:
                await state.subscribe(node, app.app_id, channel, socket_id)
            for channel, socket_id, member in app.members:
                # Admitted already: no cap may refuse them now.
                await state.add_member(node, app.app_id, channel, socket_id, member, UNCAPPED)
            for user_id, socket_id in app.users:
                await state.sign_in(node, app.app_id, user_id, socket_id)

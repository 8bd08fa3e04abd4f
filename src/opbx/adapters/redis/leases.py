"""Leases and the reaper: a node that stops renewing its lease has its state removed.

Every node renews a lease (its score in ``P:nodes``, on Redis's clock) every third of
``node_timeout``. When a node stops (SIGKILL, a network cut), a surviving node claims it,
removes its owned entries through the same scripts as a live goodbye, and announces each
real transition: ``member_removed`` (and the webhooks) for a user's last socket, a vacated
channel for its last subscriber. With ``node_timeout`` = 15 s a dead node's members are gone
within 20 s. The design mirrors centrifuge's presence TTL with an explicit reaper.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from opbx.adapters.base import AdapterHandler
from opbx.adapters.redis.keys import REAP_ORDER, EntryKind
from opbx.adapters.redis.mirror import Mirror
from opbx.adapters.redis.store import SharedState
from opbx.protocol.app import AppId
from opbx.protocol.channels import ChannelName
from opbx.protocol.presence import UserId
from opbx.protocol.session import SocketId

__all__ = ["Leases"]

log = logging.getLogger("opbx.adapters.redis")


class Leases:
    """This node's lease, and the reaping of nodes whose lease ran out."""

    def __init__(self, state: SharedState, mirror: Mirror, node_id: str, timeout: float) -> None:
        self.handler: AdapterHandler | None = None
        """Told of the transitions a dead node's removal makes (set when the adapter starts)."""
        self.lost = 0
        """Times the heartbeat found this node's lease gone while it was alive."""
        self.closing = False
        self._state = state
        self._mirror = mirror
        self._node_id = node_id
        self._timeout = timeout
        self._started = False

    async def beat(self) -> None:
        """Renew the lease; when Redis had forgotten this live node, write its state again."""
        unknown = await self._state.heartbeat(self._node_id)
        self._mirror.healthy = True
        if unknown and self._started:
            # Paused past the lease, or Redis restarted or failed over: our entries may be gone.
            log.warning("node %s was unknown to Redis; re-asserting its state", self._node_id)
            self.lost += 1
            self._mirror.dirty = True
        self._started = True
        if self._mirror.dirty:
            await self._mirror.reassert()

    async def keep_alive(self) -> None:
        """Beat and reap, every third of the lease, until cancelled."""
        while True:
            await asyncio.sleep(self._timeout / 3)
            try:
                await self.beat()
                await self.reap_dead()
            except RedisError as exc:
                if self.closing:
                    return
                self._mirror.failed("the heartbeat", exc)

    async def reap_dead(self) -> None:
        """Remove the state of every other node whose lease ran out (one reaper per dead node)."""
        for node in await self._state.dead_nodes(self._timeout):
            if node != self._node_id and await self._state.claim(node, self._node_id):
                log.warning("node %s stopped renewing its lease; removing its sockets", node)
                await self.reap(node, announce=True)

    async def reap(self, node: str, *, announce: bool) -> None:
        """Remove every entry ``node`` owned; announce each real transition when it died.

        With ``node`` this node and ``announce`` False, it is a clean goodbye.
        """
        state = self._state
        handler = self.handler if announce else None
        entries = await state.owned(node)
        rank = {kind.value: index for index, kind in enumerate(REAP_ORDER)}
        for kind, *parts in sorted(entries, key=lambda item: rank.get(item[0], len(rank))):
            if kind == EntryKind.MEMBER:
                app_id, channel, socket_id, user_id = AppId(parts[0]), ChannelName(parts[1]), parts[2], parts[3]
                last = await state.remove_member(node, app_id, channel, SocketId(socket_id), UserId(user_id))
                if last and handler is not None:
                    handler.member_left(app_id, channel, UserId(user_id))
            elif kind == EntryKind.SUBSCRIPTION:
                app_id, channel = AppId(parts[0]), ChannelName(parts[1])
                vacated = await state.unsubscribe(node, app_id, channel, SocketId(parts[2]))
                if vacated.changed and handler is not None:
                    handler.channel_vacated(app_id, channel)
            elif kind == EntryKind.USER:
                await state.sign_out(node, AppId(parts[0]), UserId(parts[1]), SocketId(parts[2]))
            elif kind == EntryKind.CONNECTION:
                await state.disconnect(node, AppId(parts[0]), SocketId(parts[1]))
        await state.forget(node, claimed=node != self._node_id)

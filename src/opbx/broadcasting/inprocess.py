"""The embedded driver: publish straight into the realtime server in this process."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from opbx.adapters.base import AdapterUnavailable
from opbx.broadcasting.base import Broadcast, Broadcaster, DeliveryStats, one_by_one
from opbx.protocol.app import App
from opbx.protocol.channels import ChannelName
from opbx.protocol.rest import Trigger
from opbx.realtime.server import RealtimeServer

__all__ = ["InProcessBroadcaster"]

log = logging.getLogger("opbx.broadcasting.inprocess")


class InProcessBroadcaster:
    name = "inprocess"

    def __init__(self, server: RealtimeServer, app: App) -> None:
        self._server = server
        self._app = app
        self.stats = DeliveryStats()

    async def broadcast(self, channels: Sequence[str], event: str, payload: Mapping[str, Any]) -> None:
        trigger = Trigger(
            name=event,
            data=orjson.dumps(payload).decode(),
            channels=tuple(ChannelName(channel) for channel in channels),
            socket_id=None,
            info=frozenset(),
        )
        self.stats.attempted(self.name)
        await self._server.trigger(self._app, trigger)

    async def broadcast_batch(self, batch: Sequence[Broadcast]) -> None:
        await one_by_one(self, batch)

    async def healthy(self) -> bool | None:
        return True

    async def target_health(self) -> dict[str, bool]:
        return {self.name: True}

    async def present_users(self, channel: str) -> set[str] | None:
        try:
            members = await self._server.adapter.members(self._app.id, ChannelName(channel))
        except AdapterUnavailable as exc:  # a cluster whose Redis is unreachable
            log.warning("presence of %s not known: %s", channel, exc)
            return None
        return set(members)

    async def close(self) -> None:
        pass


_: type[Broadcaster] = InProcessBroadcaster

"""The ``log`` and ``null`` drivers: for development and tests without a realtime server."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from opbx.broadcasting.base import Broadcast, Broadcaster, DeliveryStats, one_by_one

__all__ = ["LogBroadcaster", "NullBroadcaster"]

log = logging.getLogger("opbx.broadcasting.log")


class LogBroadcaster:
    """Writes each event to the log instead of sending it."""

    name = "log"

    def __init__(self) -> None:
        self.stats = DeliveryStats()

    async def broadcast(self, channels: Sequence[str], event: str, payload: Mapping[str, Any]) -> None:
        self.stats.attempted(self.name)
        log.info("%s on %s: %s", event, ",".join(channels), orjson.dumps(payload).decode())

    async def broadcast_batch(self, batch: Sequence[Broadcast]) -> None:
        await one_by_one(self, batch)

    async def healthy(self) -> bool | None:
        return None

    async def target_health(self) -> dict[str, bool]:
        return {}

    async def present_users(self, channel: str) -> set[str] | None:
        return None

    async def close(self) -> None:
        pass


class NullBroadcaster:
    """Drops every event."""

    name = "null"

    def __init__(self) -> None:
        self.stats = DeliveryStats()

    async def broadcast(self, channels: Sequence[str], event: str, payload: Mapping[str, Any]) -> None:
        pass

    async def broadcast_batch(self, batch: Sequence[Broadcast]) -> None:
        await one_by_one(self, batch)

    async def healthy(self) -> bool | None:
        return None

    async def target_health(self) -> dict[str, bool]:
        return {}

    async def present_users(self, channel: str) -> set[str] | None:
        return None

    async def close(self) -> None:
        pass


_log: type[Broadcaster] = LogBroadcaster
_null: type[Broadcaster] = NullBroadcaster

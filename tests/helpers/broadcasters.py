"""A fake realtime server for the broadcasting side: records, and can be switched off."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opbx.broadcasting.base import Broadcast, BroadcastFailed, DeliveryStats


class RecordingBroadcaster:
    """A fake realtime server: records what it is sent, and can be switched off."""

    name = "recording"

    def __init__(self) -> None:
        self.sent: list[tuple[list[str], str, dict[str, Any]]] = []
        self.down_for: set[str] = set()
        """Channels whose sends fail (a realtime server that is down for them)."""
        self.present: dict[str, set[str]] | None = None
        """Who is on each presence channel; None: a realtime server that cannot be asked."""
        self.stats = DeliveryStats()
        self.batches: list[int] = []
        """The size of each batch sent whole."""

    async def broadcast(self, channels: Sequence[str], event: str, payload: Mapping[str, Any]) -> None:
        failed = bool(self.down_for & set(channels))
        self.stats.attempted(self.name, failed=failed)
        if failed:
            raise BroadcastFailed("connection refused")
        self.sent.append((list(channels), event, dict(payload)))

    async def broadcast_batch(self, batch: Sequence[Broadcast]) -> None:
        """All or nothing, as one request to a real server: refused whole if any channel is down."""
        if any(self.down_for & set(item.channels) for item in batch):
            self.stats.attempted(self.name, failed=True)
            raise BroadcastFailed("connection refused")
        self.stats.attempted(self.name)
        self.batches.append(len(batch))
        self.sent.extend((list(item.channels), item.event, dict(item.payload)) for item in batch)

    async def healthy(self) -> bool | None:
        return True

    async def target_health(self) -> dict[str, bool]:
        return {self.name: True}

    async def present_users(self, channel: str) -> set[str] | None:
        return None if self.present is None else set(self.present.get(channel, ()))

    async def close(self) -> None:
        pass

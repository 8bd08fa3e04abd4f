"""The Broadcaster interface every driver implements, and what a driver counts of its deliveries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["BATCH_LIMIT", "Broadcast", "BroadcastFailed", "Broadcaster", "DeliveryStats", "one_by_one"]

BATCH_LIMIT = 10
"""Channel-events in one batch: the Pusher HTTP API's limit for ``POST /apps/{id}/batch_events``
(https://pusher.com/docs/channels/library_auth_reference/rest-api#post-batch-events-trigger-multiple-events)."""


@dataclass(frozen=True, slots=True)
class Broadcast:
    """One event for some channels."""

    channels: Sequence[str]
    event: str
    payload: Mapping[str, Any]


class BroadcastFailed(Exception):
    """The event did not reach the realtime server; the relay will retry it."""


@dataclass(slots=True)
class DeliveryStats:
    """Requests to each target (a realtime server's URL, or the driver's name) and those that failed."""

    attempts: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)

    def attempted(self, target: str, *, failed: bool = False) -> None:
        self.attempts[target] += 1
        if failed:
            self.failures[target] += 1


class Broadcaster(Protocol):
    name: str
    """The driver's name, as configured and as reported by the health endpoint."""

    stats: DeliveryStats
    """What it sent where; the API's metrics read it."""

    async def broadcast(self, channels: Sequence[str], event: str, payload: Mapping[str, Any]) -> None:
        """Publish ``event`` with ``payload`` to ``channels``; raise :class:`BroadcastFailed`."""

    async def broadcast_batch(self, batch: Sequence[Broadcast]) -> None:
        """Publish several events, in order, in as few requests as the driver can; together they
        name at most :data:`BATCH_LIMIT` channel-events. Raise :class:`BroadcastFailed` when
        any of them may not have arrived (the caller then sends them one by one)."""

    async def healthy(self) -> bool | None:
        """Whether the realtime server answers; None when the driver has none to ask."""

    async def target_health(self) -> dict[str, bool]:
        """Whether each target answers, in the order tried (empty when there is none)."""

    async def present_users(self, channel: str) -> set[str] | None:
        """The user ids on presence ``channel`` now; None when the driver could not ask (or has no one to ask)."""

    async def close(self) -> None: ...


async def one_by_one(broadcaster: Broadcaster, batch: Sequence[Broadcast]) -> None:
    """:meth:`Broadcaster.broadcast_batch` for a driver with nothing cheaper than one call each."""
    for item in batch:
        await broadcaster.broadcast(item.channels, item.event, item.payload)

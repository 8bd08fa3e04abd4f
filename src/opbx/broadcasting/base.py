"""The Broadcaster interface every driver implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

__all__ = ["BroadcastFailed", "Broadcaster"]


class BroadcastFailed(Exception):
    """The event did not reach the realtime server; the relay will retry it."""


class Broadcaster(Protocol):
    name: str
    """The driver's name, as configured and as reported by the health endpoint."""

    async def broadcast(self, channels: Sequence[str], event: str, payload: Mapping[str, Any]) -> None:
        """Publish ``event`` with ``payload`` to ``channels``; raise :class:`BroadcastFailed`."""

    async def healthy(self) -> bool | None:
        """Whether the realtime server answers; None when the driver has none to ask."""

    async def close(self) -> None: ...

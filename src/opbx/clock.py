"""Time, injected: code that waits or expires things asks a clock, so tests need not sleep."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (timeouts, rates, TTLs)."""

    def time(self) -> float:
        """Seconds since the Unix epoch (signatures, timestamps on the wire)."""


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

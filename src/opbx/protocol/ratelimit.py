"""A token bucket, driven by the caller's clock so tests never sleep."""

from __future__ import annotations

__all__ = ["TokenBucket"]


class TokenBucket:
    """Allows ``rate`` actions per second on average, in bursts of up to ``rate``."""

    __slots__ = ("_rate", "_tokens", "_updated")

    def __init__(self, rate: float, now: float) -> None:
        self._rate = rate
        self._tokens = rate
        self._updated = now

    def allow(self, now: float) -> bool:
        """Take one token if there is one; ``now`` is seconds on a monotonic clock."""
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(self._rate, self._tokens + elapsed * self._rate)
            self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

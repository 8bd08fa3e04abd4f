"""Counting messages in a byte stream without parsing it, at C speed.

Each benchmark message carries a marker that occurs nowhere else, so counting
messages is counting markers: ``bytes.count`` over each chunk, plus the markers that
straddle two chunks, found in the previous chunk's last ``len(marker) - 1`` bytes
joined to this chunk's first ones. The marker must not overlap itself (no proper
prefix equal to a suffix), so that non-overlapping counts are exact.
"""

from __future__ import annotations

__all__ = ["MarkerCounter", "self_overlaps"]


def self_overlaps(marker: bytes) -> bool:
    """Whether two occurrences of ``marker`` can overlap (it has a border)."""
    return any(marker[:size] == marker[-size:] for size in range(1, len(marker)))


class MarkerCounter:
    """Counts occurrences of one marker across the chunks of a stream."""

    __slots__ = ("_keep", "_marker", "_tail", "count")

    def __init__(self, marker: bytes) -> None:
        if not marker or self_overlaps(marker):
            raise ValueError(f"marker {marker!r} is empty or overlaps itself")
        self._marker = marker
        self._keep = len(marker) - 1
        self._tail = b""
        self.count = 0
        """Markers seen so far."""

    def feed(self, data: bytes) -> int:
        """Count the markers that end in ``data``; return how many."""
        marker, keep = self._marker, self._keep
        found = data.count(marker)
        if keep:
            tail = self._tail
            if tail:
                found += (tail + data[:keep]).count(marker)
            self._tail = data[-keep:] if len(data) >= keep else (tail + data)[-keep:]
        self.count += found
        return found

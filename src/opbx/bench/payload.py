"""What benchmark events carry: the run's marker, and for latency a sequence number and send time.

The data is a plain string (relayed by the server as given, nothing to escape):
``<marker>:<seq>:<send time ns>:`` padded with ``x`` for latency, ``<marker>`` padded for
throughput. Send times are ``time.monotonic_ns()``, one clock for the whole machine
on Linux, so they compare with receive times taken by any process on it.
"""

from __future__ import annotations

import secrets
import time

__all__ = ["EVENT", "filler", "new_marker", "parse_stamp", "stamped"]

EVENT = "opbx-bench"
"""The name of every benchmark event."""


def new_marker() -> str:
    """A marker for one run: ``~`` occurs once in it, so it cannot overlap itself."""
    return f"~ob{secrets.token_hex(4)}"


def _pad(text: str, size: int) -> str:
    return text + "x" * (size - len(text)) if len(text) < size else text


def stamped(marker: str, seq: int, size: int) -> str:
    """Latency data: marker, sequence number and the time now, padded to ``size`` characters."""
    return _pad(f"{marker}:{seq}:{time.monotonic_ns()}:", size)


def filler(marker: str, size: int) -> str:
    """Throughput data: the marker padded to ``size`` characters."""
    return _pad(marker, size)


def parse_stamp(data: str, marker: str) -> tuple[int, int] | None:
    """``(seq, send time ns)`` from :func:`stamped` data of this run; None for anything else."""
    parts = data.split(":", 3)
    if len(parts) < 4 or parts[0] != marker:
        return None
    try:
        return int(parts[1]), int(parts[2])
    except ValueError:
        return None

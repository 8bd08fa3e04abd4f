"""Health of a realtime node, for load balancers: alive, ready, and room to take traffic.

* ``GET /`` answers 200 while the process serves HTTP at all (liveness).
* ``GET /ready`` answers 200 once the server listens, its adapter is connected and it is
  not shutting down; 503 otherwise (see :attr:`RealtimeServer.ready`).
* ``GET /accept-traffic`` answers 503 when the process's resident memory passes
  ``accept_traffic_memory_threshold`` percent of the memory it may use: the machine's,
  or its cgroup's limit when that is lower (a container's). Read from ``/proc`` and
  ``/sys/fs/cgroup`` (cgroup v1 and v2) on each request: a few small files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MemoryUse", "memory_limit", "memory_use", "resident_memory"]

_PROC = Path("/proc")
_CGROUP = Path("/sys/fs/cgroup")


@dataclass(frozen=True, slots=True)
class MemoryUse:
    resident_bytes: int
    limit_bytes: int

    @property
    def percent(self) -> float:
        return 100.0 * self.resident_bytes / self.limit_bytes


def resident_memory(proc: Path = _PROC) -> int:
    """This process's resident set size in bytes (``/proc/self/statm``)."""
    fields = (proc / "self" / "statm").read_text().split()
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")


def _machine_memory(proc: Path) -> int:
    for line in (proc / "meminfo").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == "MemTotal":
            return int(value.split()[0]) * 1024
    raise ValueError(f"no MemTotal in {proc / 'meminfo'}")


def _read_limit(path: Path) -> int | None:
    """A cgroup memory limit file's value; None when absent or unlimited (``max``)."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _ancestors(root: Path, cgroup_path: str) -> list[Path]:
    """``root/a/b``, ``root/a``, ``root``: a limit set on any ancestor applies too."""
    parts = [part for part in cgroup_path.split("/") if part]
    return [root.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def _cgroup_limits(proc: Path, cgroup_root: Path) -> list[int]:
    """Memory limits of this process's cgroups, v2 (``memory.max``) and v1 (``memory.limit_in_bytes``)."""
    try:
        lines = (proc / "self" / "cgroup").read_text().splitlines()
    except OSError:
        return []
    limits: list[int] = []
    for line in lines:
        _, controllers, path = [*line.split(":", 2), "", ""][:3]
        if controllers == "":  # v2: "0::/path"
            candidates = [directory / "memory.max" for directory in _ancestors(cgroup_root, path)]
        elif "memory" in controllers.split(","):  # v1: "4:memory:/path"
            v1_root = cgroup_root / "memory"
            candidates = [directory / "memory.limit_in_bytes" for directory in _ancestors(v1_root, path)]
        else:
            continue
        limits.extend(limit for limit in map(_read_limit, candidates) if limit is not None)
    return limits


def memory_limit(proc: Path = _PROC, cgroup_root: Path = _CGROUP) -> int:
    """Bytes this process may use: the machine's memory or its cgroups' lowest limit."""
    return min([_machine_memory(proc), *_cgroup_limits(proc, cgroup_root)])


def memory_use(proc: Path = _PROC, cgroup_root: Path = _CGROUP) -> MemoryUse:
    return MemoryUse(resident_memory(proc), memory_limit(proc, cgroup_root))

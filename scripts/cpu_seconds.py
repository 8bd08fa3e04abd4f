"""CPU seconds (user + system) used so far by a process and its live children.

Usage: ``python3 scripts/cpu_seconds.py PID``; ``scripts/bench-scaling.sh`` reads it before
and after a run to see how much CPU the server processes used.
"""

from __future__ import annotations

import os
import sys

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def parent_and_cpu(pid: int) -> tuple[int, float]:
    """The parent pid and the CPU seconds of one process, from ``/proc/{pid}/stat``."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def cpu_seconds(root: int) -> float:
    total = 0.0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            parent, cpu = parent_and_cpu(int(name))
        except OSError:
            continue  # gone meanwhile
        if root in (int(name), parent):
            total += cpu
    return total


if __name__ == "__main__":
    print(f"{cpu_seconds(int(sys.argv[1])):.2f}")

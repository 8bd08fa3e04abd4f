"""CPU seconds (user + system) used so far by a process and its live children.

Usage: ``.venv/bin/python scripts/cpu_seconds.py PID``; ``scripts/bench-scaling.sh`` reads it
before and after a run to see how much CPU the server processes (``--workers``) used.
"""

from __future__ import annotations

import sys
from pathlib import Path

from opbx.bench.target import ServerProcess


def cpu_seconds(root: int) -> float:
    children = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    return sum(ServerProcess(pid, "").cpu_seconds() for pid in [root, *map(int, children)])


if __name__ == "__main__":
    print(f"{cpu_seconds(int(sys.argv[1])):.2f}")

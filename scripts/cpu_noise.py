"""How steady this machine's CPU is: the same small pure-Python loop, timed over and over.

Usage: ``taskset -c 0 .venv/bin/python scripts/cpu_noise.py [SECONDS]`` on an otherwise idle
core. A quiet machine runs nearly every pass at its median; a VM whose host is busy shows a
long tail (passes many times slower) without any steal time in ``/proc/stat``. Benchmark
latency tails here are worth reading only beside this figure (``docs/benchmarks.md``).
"""

from __future__ import annotations

import sys
import time


def one_pass() -> int:
    total = 0
    for i in range(2000):
        total += i * i
    return total


def main(seconds: float) -> None:
    durations: list[float] = []
    end = time.perf_counter() + seconds
    while (started := time.perf_counter()) < end:
        one_pass()
        durations.append(time.perf_counter() - started)
    durations.sort()
    count = len(durations)
    median = durations[count // 2]
    slow = sum(1 for duration in durations if duration > 3 * median)

    def us(fraction: float) -> str:
        return f"{durations[min(count - 1, int(count * fraction))] * 1e6:.0f} µs"

    print(
        f"{count} passes: p50 {us(0.5)}, p99 {us(0.99)}, p99.9 {us(0.999)}, max {durations[-1] * 1e6:.0f} µs; "
        f"over 3x the median: {100 * slow / count:.2f} %"
    )


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)

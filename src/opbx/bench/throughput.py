"""Scenario ``throughput``: fan-out deliveries per second with publishes back to back.

N subscribers on one public channel; K publishers post events back to back over K
keep-alive HTTP connections for D seconds. Clients count the run's marker in what
they read (no parsing), and the count waits for the deliveries still in flight when
publishing stops. Deliveries per second = deliveries of the measured publishes /
(time of the last delivery - start of publishing).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from opbx.bench.fleet import Fleet
from opbx.bench.payload import EVENT, filler, new_marker
from opbx.bench.publisher import Publisher
from opbx.bench.target import Endpoint, ServerProcess

__all__ = ["ThroughputParams", "ThroughputResult", "run_throughput"]


@dataclass(frozen=True, slots=True)
class ThroughputParams:
    subscribers: int = 1000
    in_flight: int = 4
    """Publish requests in flight, each on its own keep-alive connection."""
    duration: float = 10.0
    """Seconds of publishing measured, after the warm-up."""
    warmup: float = 2.0
    payload_bytes: int = 64
    batch: int = 500
    drain_timeout: float = 5.0
    """Seconds without a delivery after which the missing ones count as lost."""
    channel: str = "bench-throughput"


@dataclass(frozen=True, slots=True)
class ThroughputResult:
    params: ThroughputParams
    subscribers: int
    publishes: int
    """Measured publishes the server accepted."""
    expected: int
    """Deliveries they owe: publishes x subscribers."""
    delivered: int
    """Deliveries the clients counted."""
    window_s: float
    """From the first measured publish to the last delivery."""
    deliveries_per_s: float
    publishes_per_s: float
    """Accepted publishes per second of publishing."""
    bench_cpu_percent: float
    server_cpu_percent: float | None
    http_connections: int
    """HTTP connections opened for the measured publishes (more than 0 if the server closes them)."""
    lost_connections: int
    connect_failures: dict[str, int] = field(default_factory=dict)
    publish_errors: dict[str, int] = field(default_factory=dict)

    name = "throughput"

    @property
    def ok(self) -> bool:
        complete = self.delivered == self.expected and self.subscribers == self.params.subscribers
        return complete and not self.publish_errors and self.publishes > 0

    def heading(self) -> str:
        p = self.params
        return (
            f"throughput: {p.subscribers} subscribers on one channel, {p.in_flight} publishes in flight"
            f" for {p.duration:g} s (after {p.warmup:g} s warm-up), {p.payload_bytes}-byte data"
        )

    def rows(self) -> list[tuple[str, str]]:
        server_cpu = "-" if self.server_cpu_percent is None else f"{self.server_cpu_percent:.0f}%"
        rows = [
            ("subscribers", f"{self.subscribers} of {self.params.subscribers}"),
            ("deliveries/s", f"{self.deliveries_per_s:,.0f}"),
            ("publishes/s", f"{self.publishes_per_s:,.1f}"),
            ("deliveries", f"{self.delivered} of {self.expected} expected"),
            ("window", f"{self.window_s:.2f} s"),
            ("CPU server / bench", f"{server_cpu} / {self.bench_cpu_percent:.0f}%"),
        ]
        if self.http_connections:
            rows.append(("HTTP reconnections", f"{self.http_connections} (the server closes keep-alive connections)"))
        return rows


async def run_throughput(
    endpoint: Endpoint, params: ThroughputParams, server: ServerProcess | None
) -> ThroughputResult:
    """Run the scenario against ``endpoint``; ``server`` (if known) gives its CPU use."""
    marker = new_marker()
    fleet = await Fleet.open(endpoint, params.subscribers, channel=params.channel, batch=params.batch)
    publisher = Publisher(endpoint, params.in_flight)
    try:
        await publisher.open()
        fleet.count(marker.encode())
        data = filler(marker, params.payload_bytes)
        if params.warmup > 0:
            await _flood(publisher, params.channel, data, params.warmup)
            await fleet.drain(publisher.ok * len(fleet), params.drain_timeout)
        before_delivered, before_ok, before_errors = fleet.delivered, publisher.ok, publisher.errors.copy()
        before_connections = publisher.connections_opened
        server_cpu = server.cpu_seconds() if server is not None else 0.0
        bench_cpu = time.process_time()
        start = time.monotonic_ns()
        await _flood(publisher, params.channel, data, params.duration)
        published = time.monotonic_ns()
        publishes = publisher.ok - before_ok
        delivered = await fleet.drain(before_delivered + publishes * len(fleet), params.drain_timeout)
        drained = time.monotonic_ns()
        bench_cpu = time.process_time() - bench_cpu
        server_cpu = server.cpu_seconds() - server_cpu if server is not None else 0.0
        last = max(fleet.last_receive_ns, published)
        lost = fleet.lost
        connections = publisher.connections_opened - before_connections
    finally:
        publisher.close()
        await fleet.close()
    window = (last - start) / 1e9
    wall = (drained - start) / 1e9
    return ThroughputResult(
        params=params,
        subscribers=len(fleet),
        publishes=publishes,
        expected=publishes * len(fleet),
        delivered=delivered - before_delivered,
        window_s=window,
        deliveries_per_s=(delivered - before_delivered) / window,
        publishes_per_s=publishes / ((published - start) / 1e9),
        bench_cpu_percent=100 * bench_cpu / wall,
        server_cpu_percent=100 * server_cpu / wall if server is not None else None,
        http_connections=connections,
        lost_connections=lost,
        connect_failures=dict(fleet.failures),
        publish_errors=dict(publisher.errors - before_errors),
    )


async def _flood(publisher: Publisher, channel: str, data: str, seconds: float) -> None:
    """Publish back to back on every connection of ``publisher`` for ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    def make() -> str:
        return data

    async def worker() -> None:
        while loop.time() < deadline:
            if not await publisher.publish(channel, EVENT, make):
                await asyncio.sleep(0.01)  # refused or disconnected: do not spin

    await asyncio.gather(*(worker() for _ in range(publisher.size)))

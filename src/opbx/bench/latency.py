"""Scenario ``latency``: publish-to-delivery time at a steady publish rate.

N subscribers on one public channel; events are published over the HTTP API at R per
second, each carrying its send time. The clients only time-stamp the chunks they
read; after the run the chunks are parsed, and every delivery of every measured
publish (after the warm-up) gives one latency: receive time minus send time.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson

from opbx.bench.fleet import Fleet
from opbx.bench.payload import EVENT, new_marker, parse_stamp, stamped
from opbx.bench.publisher import Publisher
from opbx.bench.target import Endpoint
from opbx.bench.wire import ServerFrameReader
from opbx.protocol.frames import Opcode

__all__ = ["LatencyParams", "LatencyResult", "percentile", "run_latency"]


@dataclass(frozen=True, slots=True)
class LatencyParams:
    subscribers: int = 1000
    rate: float = 20.0
    """Publishes per second."""
    duration: float = 10.0
    """Seconds measured, after the warm-up."""
    warmup: float = 2.0
    in_flight: int = 4
    """HTTP connections to publish on (requests in flight at most)."""
    payload_bytes: int = 64
    batch: int = 500
    """Connections opened at once."""
    drain_timeout: float = 5.0
    """Seconds without a delivery after which the missing ones count as lost."""
    channel: str = "bench-latency"


@dataclass(frozen=True, slots=True)
class LatencyResult:
    params: LatencyParams
    subscribers: int
    """Subscribers that connected and subscribed."""
    publishes: int
    """Measured publishes the server accepted."""
    expected: int
    """Deliveries those publishes owe: publishes x subscribers."""
    received: int
    """Deliveries of measured publishes that arrived."""
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    mean_ms: float | None
    lost_connections: int
    connect_failures: dict[str, int] = field(default_factory=dict)
    publish_errors: dict[str, int] = field(default_factory=dict)

    name = "latency"

    @property
    def ok(self) -> bool:
        complete = self.received == self.expected and self.subscribers == self.params.subscribers
        return complete and not self.publish_errors and self.publishes > 0

    def heading(self) -> str:
        p = self.params
        return (
            f"latency: {p.subscribers} subscribers on one channel, {p.rate:g} publishes/s for {p.duration:g} s"
            f" (after {p.warmup:g} s warm-up), {p.payload_bytes}-byte data"
        )

    def rows(self) -> list[tuple[str, str]]:
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value:.2f} ms"

        return [
            ("subscribers", f"{self.subscribers} of {self.params.subscribers}"),
            ("publishes measured", f"{self.publishes}"),
            ("deliveries", f"{self.received} of {self.expected} expected"),
            ("p50", ms(self.p50_ms)),
            ("p90", ms(self.p90_ms)),
            ("p99", ms(self.p99_ms)),
            ("max", ms(self.max_ms)),
            ("mean", ms(self.mean_ms)),
        ]


def percentile(ordered: list[int], fraction: float) -> int:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


async def run_latency(endpoint: Endpoint, params: LatencyParams) -> LatencyResult:
    """Run the scenario against ``endpoint``."""
    marker = new_marker()
    fleet = await Fleet.open(endpoint, params.subscribers, channel=params.channel, batch=params.batch)
    publisher = Publisher(endpoint, params.in_flight)
    try:
        await publisher.open()
        fleet.count(marker.encode(), keep_chunks=True)
        warm = round(params.rate * params.warmup)
        accepted = await _paced(publisher, params, marker, warm + round(params.rate * params.duration))
        await fleet.drain(sum(accepted) * len(fleet), params.drain_timeout)
        latencies = sorted(
            received - sent
            for client in fleet.clients
            for seq, sent, received in _stamps(client.chunks, marker)
            if seq >= warm
        )
        lost = fleet.lost
    finally:
        publisher.close()
        await fleet.close()
    publishes = sum(accepted[warm:])
    stats: list[float | None] = [None] * 5
    if latencies:
        points = (percentile(latencies, 0.50), percentile(latencies, 0.90), percentile(latencies, 0.99))
        stats = [value / 1e6 for value in (*points, latencies[-1], sum(latencies) / len(latencies))]
    p50, p90, p99, worst, mean = stats
    return LatencyResult(
        params=params,
        subscribers=len(fleet),
        publishes=publishes,
        expected=publishes * len(fleet),
        received=len(latencies),
        p50_ms=p50,
        p90_ms=p90,
        p99_ms=p99,
        max_ms=worst,
        mean_ms=mean,
        lost_connections=lost,
        connect_failures=dict(fleet.failures),
        publish_errors=dict(publisher.errors),
    )


async def _paced(publisher: Publisher, params: LatencyParams, marker: str, count: int) -> list[bool]:
    """Publish ``count`` stamped events at ``params.rate`` per second; whether each was accepted."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks: list[asyncio.Task[bool]] = []
    for seq in range(count):
        delay = start + seq / params.rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        data = functools.partial(stamped, marker, seq, params.payload_bytes)
        tasks.append(loop.create_task(publisher.publish(params.channel, EVENT, data)))
    return list(await asyncio.gather(*tasks))


def _stamps(chunks: list[tuple[int, bytes]] | None, marker: str) -> Iterator[tuple[int, int, int]]:
    """``(seq, sent, received)`` of each delivery in a client's kept chunks."""
    reader = ServerFrameReader()
    needle = marker.encode()
    for received, chunk in chunks or ():
        for opcode, payload in reader.feed(chunk):
            if opcode != Opcode.TEXT or needle not in payload:
                continue
            data = orjson.loads(payload).get("data")
            stamp = parse_stamp(data, marker) if isinstance(data, str) else None
            if stamp is not None:
                yield stamp[0], stamp[1], received

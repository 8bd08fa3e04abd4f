"""``opbx bench-calls``: the call-presence backend under load, end to end.

The system runs in one of two layouts (:mod:`opbx.bench.layouts`): ``embedded`` (``opbx
serve``: SQLite, the in-process broadcaster) or ``production`` (``opbx api`` on PostgreSQL
with the ``pusher`` driver, and ``opbx realtime``), on a database of the bench's own
(:mod:`opbx.bench.scratch`). The bench signs in as the demo organization's admin,
subscribes one socket to ``presence-org.{id}`` through the real
``/api/v1/broadcasting/auth``, and then posts signed Cloudonix ``call-initiated``
webhooks, each for a new call:

* **latency**: at a steady rate (100/s), the time from just before a webhook is posted to
  the ``call.initiated`` event for that call arriving on the socket (so the figure includes
  the HTTP request, the database transaction, the outbox relay and the fan-out);
* **throughput**: back to back with a few requests in flight, the webhooks the system
  applies per second (each answered 200 ``applied`` and its event delivered).

Each phase also reports the CPU seconds each process spent per 1,000 webhooks posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import orjson

from opbx.bench.breakdown import Breakdown, scrape
from opbx.bench.client import BenchClient, connect
from opbx.bench.latency import percentile
from opbx.bench.layouts import System, start_system
from opbx.bench.scratch import bench_database
from opbx.bench.target import ServerProcess
from opbx.broadcasting.http1 import HttpClient
from opbx.demo import DEMO_PASSWORD, DemoOrganization
from opbx.heap import freeze_startup_heap
from opbx.telephony.ingest import WebhookKind, sign_body, webhook_path

__all__ = ["CallBenchResult", "result_json", "run_call_bench"]


_KINDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass
class CallBenchResult:
    """What one run measured; times in milliseconds."""

    rate: float
    latency_webhooks: int = 0
    latency_delivered: int = 0
    p50: float = 0.0
    p90: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    throughput_in_flight: int = 0
    throughput_seconds: float = 0.0
    webhooks_applied: int = 0
    webhooks_per_second: float = 0.0
    events_delivered: int = 0
    events_per_second: float = 0.0
    """Events delivered over the time from the first webhook to the last event: the rate sustained end to end."""
    refused: dict[int, int] = field(default_factory=dict)
    """Webhook answers other than 200, by status (none expected)."""
    pinned: bool = True
    layout: str = "embedded"
    database: str = "sqlite"
    """``sqlite`` or ``postgresql``."""
    latency_cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds per 1,000 webhooks in the latency phase (warm-up included), by process."""
    throughput_cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds per 1,000 webhooks in the throughput phase (until the last event), by process."""
    latency_breakdown: dict[str, float] = field(default_factory=dict)
    """Milliseconds per webhook by phase in the latency phase (:mod:`opbx.bench.breakdown`)."""

    def _cpu_lines(self, figures: dict[str, float]) -> list[str]:
        return [f"  CPU/1,000 webhooks  {name}: {seconds:.2f} s" for name, seconds in figures.items()]

    def report(self) -> str:
        if self.layout == "embedded":
            header = f"embedded: opbx serve, {_KINDS[self.database]}, in-process broadcaster"
            placement = "server CPU 0, bench CPU 1"
        else:
            header = f"production: opbx api ({_KINDS[self.database]}, pusher driver) + opbx realtime"
            placement = "opbx api CPU 0, opbx realtime and bench CPU 1"
        lines = [
            f"opbx bench-calls: {header}",
            f"  pinned              {placement if self.pinned else 'no'}",
            f"latency: call-initiated webhooks at {self.rate:g}/s, webhook posted -> call.initiated on the socket",
            f"  delivered           {self.latency_delivered} of {self.latency_webhooks}",
            f"  p50 / p90 / p99     {self.p50:.2f} / {self.p90:.2f} / {self.p99:.2f} ms",
            f"  max                 {self.max:.2f} ms",
            *self._cpu_lines(self.latency_cpu),
            *Breakdown(self.latency_breakdown).lines(),
            f"throughput: {self.throughput_in_flight} webhooks in flight for {self.throughput_seconds:g} s",
            f"  applied             {self.webhooks_applied} ({self.webhooks_per_second:,.0f}/s)",
            f"  events delivered    {self.events_delivered} of {self.webhooks_applied}"
            f" ({self.events_per_second:,.0f}/s to the last one)",
            *self._cpu_lines(self.throughput_cpu),
        ]
        if self.refused:
            lines.append(f"  refused             {self.refused}")
        return "\n".join(lines)

    @property
    def complete(self) -> bool:
        return (
            not self.refused
            and self.latency_delivered == self.latency_webhooks
            and self.events_delivered == self.webhooks_applied
        )


class _CpuMeter:
    """CPU seconds each process spends over a phase, per 1,000 webhooks posted in it."""

    def __init__(self, processes: tuple[ServerProcess, ...], driver: _Driver) -> None:
        self._processes = processes
        self._driver = driver
        self._cpu: list[float] = []
        self._posted = 0

    def start(self) -> None:
        self._cpu = [process.cpu_seconds() for process in self._processes]
        self._posted = self._driver.posted

    def per_thousand(self) -> dict[str, float]:
        webhooks = self._driver.posted - self._posted
        return {
            process.description: (process.cpu_seconds() - before) / webhooks * 1000 if webhooks else 0.0
            for process, before in zip(self._processes, self._cpu, strict=True)
        }


class _Driver:
    """Posts signed webhooks and matches each call's event on the socket to its post."""

    def __init__(self, http: HttpClient, organization: DemoOrganization, client: BenchClient) -> None:
        self._http = http
        self._organization = organization
        self.sent: dict[str, float] = {}
        self.received: dict[str, float] = {}
        self.refused: dict[int, int] = {}
        self.applied = 0
        self.posted = 0
        self._arrived = asyncio.Event()
        client.on_event = self._event

    def _event(self, message: dict[str, Any]) -> None:
        if message.get("event") != "call.initiated":
            return
        data = message.get("data")
        payload = orjson.loads(data) if isinstance(data, str) else data
        if isinstance(payload, dict):
            self.received[str(payload.get("call_id"))] = time.perf_counter()
        self._arrived.set()

    async def post(self, index: int) -> str:
        organization = self._organization
        call_id = str(uuid.uuid4())
        did = organization.dids[index % len(organization.dids)]
        body = orjson.dumps(
            {
                "call_id": call_id,
                "from": f"+1555{index % 10_000_000:07d}",
                "to": did,
                "did": did,
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "direction": "inbound",
                "status": "initiated",
            }
        )
        headers = {"X-Cloudonix-Signature": sign_body(organization.webhook_secret, body)}
        self.sent[call_id] = time.perf_counter()
        self.posted += 1
        response = await self._http.request(
            "POST",
            webhook_path(WebhookKind.CALL_INITIATED),
            query={"org": str(organization.id)},
            body=body,
            headers=headers,
        )
        if response.status_code == 200:
            self.applied += 1
        else:
            self.refused[response.status_code] = self.refused.get(response.status_code, 0) + 1
        return call_id

    async def drain(self, call_ids: list[str], within: float = 5.0) -> None:
        """Wait until each of ``call_ids`` has its event (or ``within`` seconds pass)."""
        deadline = time.monotonic() + within
        while any(call_id not in self.received for call_id in call_ids) and time.monotonic() < deadline:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.2):
                    await self._arrived.wait()


async def _latency(driver: _Driver, result: CallBenchResult, duration: float, warmup: float) -> None:
    interval = 1 / result.rate
    start = time.perf_counter()
    tasks: list[asyncio.Task[str]] = []
    measured_from = int(warmup * result.rate)
    total = int((warmup + duration) * result.rate)
    for index in range(total):
        delay = start + index * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(driver.post(index)))
    call_ids = list(await asyncio.gather(*tasks))[measured_from:]
    await driver.drain(call_ids)
    times = sorted(
        round((driver.received[call_id] - driver.sent[call_id]) * 1_000_000)
        for call_id in call_ids
        if call_id in driver.received
    )
    result.latency_webhooks = len(call_ids)
    result.latency_delivered = len(times)
    if times:
        result.p50, result.p90, result.p99 = (percentile(times, q) / 1000 for q in (0.5, 0.9, 0.99))
        result.max = times[-1] / 1000


async def _throughput(driver: _Driver, result: CallBenchResult, duration: float, in_flight: int) -> None:
    result.throughput_in_flight, result.throughput_seconds = in_flight, duration
    applied_before = driver.applied
    call_ids: list[str] = []
    deadline = time.perf_counter() + duration
    counter = iter(range(10**9))

    async def worker() -> None:
        while time.perf_counter() < deadline:
            call_ids.append(await driver.post(1_000_000 + next(counter)))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    elapsed = time.perf_counter() - started
    await driver.drain(call_ids, within=60.0)  # the relay may be behind the webhooks: let it catch up
    result.webhooks_applied = driver.applied - applied_before
    result.webhooks_per_second = result.webhooks_applied / elapsed
    arrivals = [driver.received[call_id] for call_id in call_ids if call_id in driver.received]
    result.events_delivered = len(arrivals)
    if arrivals:
        result.events_per_second = len(arrivals) / (max(arrivals) - started)


@dataclass(frozen=True, slots=True)
class _Phases:
    duration: float
    warmup: float
    in_flight: int


async def _measure(system: System, organization: DemoOrganization, result: CallBenchResult, phases: _Phases) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{system.api_port}", timeout=30) as http:
        login = await http.post("/api/v1/auth/login", json={"email": organization.emails[0], "password": DEMO_PASSWORD})
        login.raise_for_status()
        token = login.json()["token"]
        config = (await http.get("/api/v1/realtime/config")).json()
        client = await connect("127.0.0.1", system.ws_port, config["key"])
        try:
            channel = f"presence-org.{organization.id}"
            auth = await http.post(
                "/api/v1/broadcasting/auth",
                data={"socket_id": client.socket_id, "channel_name": channel},
                headers={"Authorization": f"Bearer {token}"},
            )
            auth.raise_for_status()
            await asyncio.wait_for(client.subscribe(channel, auth.json()), 10)
            # The webhooks go through our lean client: httpx cost ~1 ms of the bench's CPU per
            # request, on the core the bench shares with the realtime server.
            poster = HttpClient(f"http://127.0.0.1:{system.api_port}", timeout=30)
            driver = _Driver(poster, organization, client)
            meter = _CpuMeter(system.processes, driver)
            meter.start()
            before, posted = await scrape(http), driver.posted
            await _latency(driver, result, phases.duration, phases.warmup)
            result.latency_cpu = meter.per_thousand()
            result.latency_breakdown = Breakdown.between(before, await scrape(http), driver.posted - posted).ms
            meter.start()
            await _throughput(driver, result, phases.duration, phases.in_flight)
            result.throughput_cpu = meter.per_thousand()
            result.refused = driver.refused
            await poster.aclose()
        finally:
            client.close()


async def run_call_bench(
    *,
    rate: float = 100.0,
    duration: float = 10.0,
    warmup: float = 2.0,
    in_flight: int = 8,
    pin: bool = True,
    layout: str = "embedded",
    database_url: str | None = None,
) -> CallBenchResult:
    """Start the system, measure latency then throughput, stop it; see the module doc.

    ``database_url``: None for SQLite in a temporary directory; a PostgreSQL URL names the
    server the bench makes (and drops) a database of its own on.
    """
    result = CallBenchResult(rate=rate, pinned=pin, layout=layout)
    async with bench_database(database_url) as database:
        result.database = database.kind
        with start_system(layout, database.url, pin=pin) as system:
            freeze_startup_heap()  # the bench's own full collections would show as latency
            await _measure(system, database.organization, result, _Phases(duration, warmup, in_flight))
    return result


def result_json(result: CallBenchResult) -> bytes:
    return orjson.dumps(asdict(result), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)

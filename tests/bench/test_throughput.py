"""The throughput scenario, tiny, against an in-process server: counts are exact."""

from __future__ import annotations

import os

from opbx.bench.target import Endpoint, ServerProcess
from opbx.bench.throughput import ThroughputParams, run_throughput
from opbx.realtime.server import RealtimeServer
from tests.helpers.apps import TEST_APP


async def test_counts_every_delivery_of_every_publish(server: RealtimeServer) -> None:
    endpoint = Endpoint("127.0.0.1", server.port, TEST_APP.id, TEST_APP.key, TEST_APP.secret)
    params = ThroughputParams(subscribers=20, in_flight=4, duration=0.5, warmup=0.2, batch=8)
    result = await run_throughput(endpoint, params, ServerProcess.attach(os.getpid()))
    assert result.subscribers == 20
    assert result.publishes > 0
    assert result.delivered == result.expected == result.publishes * 20
    assert result.http_connections == 0  # keep-alive: the four connections opened before measuring
    assert result.server_cpu_percent is not None
    assert not result.publish_errors
    assert result.lost_connections == 0
    assert result.ok


async def test_without_the_server_process_cpu_is_unknown(server: RealtimeServer) -> None:
    endpoint = Endpoint("127.0.0.1", server.port, TEST_APP.id, TEST_APP.key, TEST_APP.secret)
    params = ThroughputParams(subscribers=2, in_flight=1, duration=0.1, warmup=0)
    result = await run_throughput(endpoint, params, None)
    assert result.delivered == result.expected == result.publishes * 2
    assert result.server_cpu_percent is None
    assert dict(result.rows())["CPU server / bench"].startswith("- /")

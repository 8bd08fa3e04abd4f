"""The latency scenario, tiny, against an in-process server: every delivery accounted for."""

from __future__ import annotations

import pytest

from opbx.bench.latency import LatencyParams, percentile, run_latency
from opbx.bench.target import Endpoint
from opbx.realtime.server import RealtimeServer
from tests.helpers.apps import TEST_APP


async def test_every_publish_reaches_every_subscriber(server: RealtimeServer) -> None:
    endpoint = Endpoint("127.0.0.1", server.port, TEST_APP.id, TEST_APP.key, TEST_APP.secret)
    params = LatencyParams(subscribers=20, rate=20, duration=1.0, warmup=0.2, batch=8)
    result = await run_latency(endpoint, params)
    assert result.subscribers == 20
    assert result.publishes == 20
    assert result.received == result.expected == 20 * 20
    assert result.p50_ms is not None
    assert result.p99_ms is not None
    assert result.max_ms is not None
    assert result.p50_ms <= result.p99_ms <= result.max_ms
    assert result.ok
    assert [label for label, _ in result.rows()][:3] == ["subscribers", "publishes measured", "deliveries"]


async def test_a_refusing_server_is_reported(server: RealtimeServer) -> None:
    endpoint = Endpoint("127.0.0.1", server.port, TEST_APP.id, TEST_APP.key, "wrong-secret")
    result = await run_latency(endpoint, LatencyParams(subscribers=3, rate=20, duration=0.2, warmup=0))
    assert result.publishes == 0
    assert result.received == 0
    assert result.p99_ms is None
    assert sum(result.publish_errors.values()) == 4
    assert not result.ok


@pytest.mark.parametrize(("fraction", "expected"), [(0.0, 1), (0.5, 50), (0.9, 90), (0.99, 99), (1.0, 100)])
def test_percentile_is_nearest_rank(fraction: float, expected: int) -> None:
    assert percentile(list(range(1, 101)), fraction) == expected

"""``opbx bench-calls`` end to end, briefly: the real system, real webhooks, one real socket."""

from __future__ import annotations

import orjson
import pytest

from opbx.bench.calls import result_json, run_call_bench

pytestmark = pytest.mark.integration


async def test_a_short_run_measures_every_webhook_it_sends() -> None:
    result = await run_call_bench(rate=20, duration=1.0, warmup=0.5, in_flight=2, pin=False)
    assert result.refused == {}
    assert result.latency_webhooks == 20
    assert result.latency_delivered == 20  # each webhook's event reached the socket
    assert 0 < result.p50 <= result.p99 <= result.max
    assert result.webhooks_applied > 0
    assert result.events_delivered == result.webhooks_applied
    assert result.complete
    report = result.report()
    assert "20 of 20" in report
    assert orjson.loads(result_json(result))["latency_delivered"] == 20

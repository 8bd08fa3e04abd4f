"""``opbx bench-calls`` end to end, briefly: the real system, real webhooks, one real socket."""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg
import orjson
import pytest

from opbx.bench.breakdown import ROWS
from opbx.bench.calls import result_json, run_call_bench
from opbx.bench.scratch import bench_database
from opbx.db.postgresql import driver_url
from tests.helpers.databases import POSTGRES_URL

pytestmark = pytest.mark.integration


async def _bench_databases() -> set[str]:
    connection = await asyncpg.connect(driver_url(POSTGRES_URL))
    try:
        rows = await connection.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'opbx_bench_%'")
    finally:
        await connection.close()
    return {row["datname"] for row in rows}


async def test_a_short_run_measures_every_webhook_it_sends() -> None:
    result = await run_call_bench(rate=20, duration=1.0, warmup=0.5, in_flight=2, pin=False)
    assert result.refused == {}
    assert result.latency_webhooks == 20
    assert result.latency_delivered == 20  # each webhook's event reached the socket
    assert 0 < result.p50 <= result.p99 <= result.max
    assert result.webhooks_applied > 0
    assert result.events_delivered == result.webhooks_applied
    assert result.complete
    assert (result.layout, result.database) == ("embedded", "sqlite")
    assert set(result.latency_cpu) == set(result.throughput_cpu) == {"opbx serve"}
    assert list(result.latency_breakdown) == list(ROWS)
    assert result.latency_breakdown["statements"] > 0
    assert result.latency_breakdown["relay"] > 0
    report = result.report()
    assert "20 of 20" in report
    assert "embedded: opbx serve, SQLite, in-process broadcaster" in report
    assert orjson.loads(result_json(result))["latency_delivered"] == 20


@pytest.mark.postgres
async def test_the_production_layout_runs_on_a_postgres_database_of_its_own_and_drops_it() -> None:
    before = await _bench_databases()
    result = await run_call_bench(
        rate=40, duration=1.5, warmup=0.5, in_flight=2, pin=False, layout="production", database_url=POSTGRES_URL
    )
    assert result.refused == {}
    assert result.latency_webhooks == 60
    assert result.latency_delivered == 60  # through opbx api's pusher driver to opbx realtime
    assert result.webhooks_applied > 0
    assert result.events_delivered == result.webhooks_applied
    assert result.complete
    assert (result.layout, result.database) == ("production", "postgresql")
    for figures in (result.latency_cpu, result.throughput_cpu):
        assert set(figures) == {"opbx api", "opbx realtime"}
        assert all(seconds > 0 for seconds in figures.values()), figures
    report = result.report()
    assert "production: opbx api (PostgreSQL, pusher driver) + opbx realtime" in report
    assert "60 of 60" in report
    assert orjson.loads(result_json(result))["latency_cpu"].keys() == {"opbx api", "opbx realtime"}
    assert result.latency_breakdown["statements"] > 0
    assert result.latency_breakdown["commit"] == 0  # the write statement commits by itself
    assert result.latency_breakdown["relay"] > 0
    assert "time per webhook" in report
    assert await _bench_databases() <= before  # the bench's own database is gone


@pytest.mark.postgres
async def test_the_bench_database_is_dropped_when_the_run_fails() -> None:
    names: list[str] = []

    async def fail_midway() -> None:
        async with bench_database(POSTGRES_URL) as database:
            names.append(urlsplit(database.url).path.lstrip("/"))
            assert database.kind == "postgresql"
            assert names[0] in await _bench_databases()
            raise RuntimeError("midway")

    with pytest.raises(RuntimeError, match="midway"):
        await fail_midway()
    assert names[0].startswith("opbx_bench_")
    assert names[0] not in await _bench_databases()

"""The API's Prometheus endpoint, scraped over HTTP from a served backend after real requests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from opbx.api.metrics import SIGN_IN_RESULTS, WEBHOOK_KINDS, WEBHOOK_OUTCOMES
from opbx.db.engine import Database
from opbx.telephony.ingest import sign_body
from tests.api.conftest import T0
from tests.api.served import Served, served_backend
from tests.helpers.broadcasters import RecordingBroadcaster
from tests.helpers.clock import ManualClock
from tests.helpers.openapi_check import check_response_hook, document
from tests.helpers.scrape import Samples, scrape, value
from tests.helpers.world import World

pytestmark = pytest.mark.integration


@pytest.fixture
async def served(database: Database, world: World, clock: ManualClock) -> AsyncIterator[Served]:
    async with served_backend(database, clock=clock) as served:
        yield served


@pytest.fixture
async def client(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    hooks = {"response": [check_response_hook]}  # every answer must match the OpenAPI document
    async with httpx.AsyncClient(base_url=served.url, event_hooks=hooks) as client:
        yield client


async def webhook(client: httpx.AsyncClient, secret: str | None, kind: str, body: bytes) -> int:
    headers = {"X-Cloudonix-Signature": sign_body(secret, body)} if secret is not None else {}
    response = await client.post(f"/webhooks/cloudonix/{kind}", content=body, headers=headers)
    return response.status_code


async def test_webhooks_are_counted_by_kind_and_outcome(
    client: httpx.AsyncClient, served: Served, world: World
) -> None:
    acme = world.acme
    call = json.dumps({"call_id": "m1", "to": acme.did_numbers[0], "timestamp": T0}).encode()
    answered = b'{"callIds":["m1"],"status":"answered"}'
    late = b'{"callIds":["m1"],"status":"ringing"}'
    theirs = json.dumps({"call_id": "m2", "to": world.globex.did_numbers[0]}).encode()
    nobody = json.dumps({"call_id": "m3", "to": "+10000000000"}).encode()
    answers = [
        await webhook(client, acme.secret, "call-initiated", call),  # applied
        await webhook(client, acme.secret, "call-initiated", call),  # duplicate
        await webhook(client, acme.secret, "call-status", answered),  # applied
        await webhook(client, acme.secret, "call-status", late),  # ignored: behind answered
        await webhook(client, None, "call-status", answered),  # unauthorized
        await webhook(client, acme.secret, "call-initiated", theirs),  # forbidden
        await webhook(client, acme.secret, "call-initiated", nobody),  # unknown_number
        await webhook(client, acme.secret, "cdr", b"{not json"),  # invalid
        await webhook(client, acme.secret, "cdr", b"{" + b" " * 300_000 + b"}"),  # too_large
    ]
    assert answers == [200, 200, 200, 200, 401, 403, 404, 422, 413]
    samples = await scrape(served.port)
    expected = {
        ("call-initiated", "applied"): 1,
        ("call-initiated", "duplicate"): 1,
        ("call-status", "applied"): 1,
        ("call-status", "ignored"): 1,
        ("call-status", "unauthorized"): 1,
        ("call-initiated", "forbidden"): 1,
        ("call-initiated", "unknown_number"): 1,
        ("cdr", "invalid"): 1,
        ("cdr", "too_large"): 1,
    }
    for kind in WEBHOOK_KINDS:
        for outcome in WEBHOOK_OUTCOMES:  # every series exists, the others at 0
            labels = frozenset({"kind": kind, "outcome": outcome}.items())
            assert samples[("opbx_api_webhooks_total", labels)] == expected.get((kind, outcome), 0), (kind, outcome)


def request_counts(samples: Samples) -> dict[tuple[str, str, str], float]:
    counts: dict[tuple[str, str, str], float] = {}
    for (name, labels), count in samples.items():
        if name == "opbx_api_request_duration_seconds_count":
            found = dict(labels)
            counts[(found["method"], found["route"], found["status"])] = count
    return counts


async def test_request_latency_is_labelled_by_route_template_and_status(
    client: httpx.AsyncClient, served: Served, world: World
) -> None:
    assert (await client.get(f"/api/v1/users/{world.acme.user_ids[0]}")).status_code == 401
    assert (await client.get("/api/v1/users/424242")).status_code == 401
    assert (await client.get("/livez")).status_code == 200
    assert (await client.get("/api/v1/openapi.json")).status_code == 200
    assert (await client.post("/no-such-route", content=b"{}")).status_code == 404
    counts = request_counts(await scrape(served.port))
    dashboard = "/{path}"  # the dashboard's mount answers every other path (404 for a POST)
    assert counts == {
        ("GET", "/api/v1/users/{user_id}", "401"): 2,
        ("GET", "/livez", "200"): 1,
        ("GET", "/api/v1/openapi.json", "200"): 1,
        ("POST", dashboard, "404"): 1,
    }
    samples = await scrape(served.port)
    labels = frozenset({"method": "GET", "route": "/api/v1/users/{user_id}", "status": "401"}.items())
    infinite = frozenset({*labels, ("le", "+Inf")})
    assert samples[("opbx_api_request_duration_seconds_bucket", infinite)] == 2
    assert samples[("opbx_api_request_duration_seconds_sum", labels)] > 0
    assert ("GET", "/metrics", "200") in request_counts(samples), "the first scrape is counted by the second"


async def test_outbox_and_relay_figures_are_read_when_scraped(
    client: httpx.AsyncClient, served: Served, world: World, clock: ManualClock, database: Database
) -> None:
    relay, broadcaster = served.backend.relay, served.backend.broadcaster
    assert isinstance(broadcaster, RecordingBroadcaster)
    samples = await scrape(served.port)
    assert value(samples, "opbx_api_outbox_depth") == 0
    assert value(samples, "opbx_api_outbox_oldest_age_seconds") == 0
    assert value(samples, "opbx_api_outbox_stalled_organizations") == 0
    tried = ("opbx_api_relay_attempts", "opbx_api_relay_failures")
    assert [name for name, _ in samples if name.startswith(tried)] == []  # nothing tried yet
    assert value(samples, "opbx_api_relay_sent_events_total") == 0

    acme = world.acme
    for call_id in ("o1", "o2"):
        body = json.dumps({"call_id": call_id, "to": acme.did_numbers[0], "timestamp": T0}).encode()
        assert await webhook(client, acme.secret, "call-initiated", body) == 200
    clock.advance(30)
    await relay.measure_backlog()
    samples = await scrape(served.port)
    assert value(samples, "opbx_api_outbox_depth") == 2
    assert value(samples, "opbx_api_outbox_oldest_age_seconds") == 30

    broadcaster.down_for = {f"presence-org.{acme.id}"}
    # The batch of both is refused; sent again one by one, the first fails and the second waits behind it.
    assert await relay.send_due() == 0
    await relay.measure_backlog()
    samples = await scrape(served.port)
    assert value(samples, "opbx_api_outbox_stalled_organizations") == 1
    assert value(samples, "opbx_api_relay_attempts_total", target="recording") == 2
    assert value(samples, "opbx_api_relay_failures_total", target="recording") == 2

    broadcaster.down_for = set()
    clock.advance(10)  # past the retry's backoff
    assert await relay.send_due() == 2
    await relay.measure_backlog()
    samples = await scrape(served.port)
    assert value(samples, "opbx_api_outbox_depth") == 0
    assert value(samples, "opbx_api_outbox_oldest_age_seconds") == 0
    assert value(samples, "opbx_api_outbox_stalled_organizations") == 0
    assert value(samples, "opbx_api_relay_attempts_total", target="recording") == 3  # both in one batch
    assert value(samples, "opbx_api_relay_failures_total", target="recording") == 2
    assert value(samples, "opbx_api_relay_sent_events_total") == 2
    assert value(samples, "opbx_api_relay_sending_seconds_total") > 0
    assert value(samples, "opbx_api_relay_outbox_reads_total") == relay.outbox_reads > 0
    for phase in ("begin", "signature", "parsing", "statements"):  # the two webhooks' unit of work
        assert value(samples, "opbx_api_webhook_phase_seconds_total", phase=phase) > 0
    committing = value(samples, "opbx_api_webhook_phase_seconds_total", phase="commit")
    assert committing > 0 if database.is_sqlite else committing == 0  # PostgreSQL's write commits by itself


async def test_database_pool_use(served: Served, database: Database) -> None:
    pool_size = database.engine.pool.size()  # type: ignore[attr-defined]  # a QueuePool on both databases
    samples = await scrape(served.port)
    assert value(samples, "opbx_api_db_pool_size") == pool_size
    assert value(samples, "opbx_api_db_pool_checked_out") == 0
    async with database.engine.connect() as first, database.engine.connect() as second:
        assert first is not second
        samples = await scrape(served.port)
        assert value(samples, "opbx_api_db_pool_checked_out") == 2
        assert value(samples, "opbx_api_db_pool_overflow") == 0
    samples = await scrape(served.port)
    assert value(samples, "opbx_api_db_pool_checked_out") == 0
    assert value(samples, "opbx_api_db_pool_checked_in") >= 2  # returned to the pool, idle


async def test_sign_ins_are_counted_by_result(served: Served) -> None:
    metrics = served.backend.api.state.context.metrics
    before = await scrape(served.port)
    metrics.sign_in("throttled")
    metrics.sign_in("throttled")
    metrics.sign_in("failed")
    after = await scrape(served.port)
    added = {
        result: value(after, "opbx_api_sign_ins_total", result=result)
        - value(before, "opbx_api_sign_ins_total", result=result)
        for result in SIGN_IN_RESULTS
    }
    assert added == {"succeeded": 0, "failed": 1, "throttled": 2}
    for result in SIGN_IN_RESULTS:  # every series exists from the start
        assert ("opbx_api_sign_ins_total", frozenset({("result", result)})) in before
    with pytest.raises(ValueError, match="unknown sign-in result 'maybe'"):
        metrics.sign_in("maybe")


async def test_the_endpoint_is_declared_and_speaks_both_formats(client: httpx.AsyncClient) -> None:
    described = document()["paths"]["/metrics"]["get"]
    assert described["security"] == []
    assert list(described["responses"]["200"]["content"]) == ["text/plain"]
    plain = await client.get("/metrics")
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("text/plain")
    assert "# TYPE opbx_api_webhooks_total counter" in plain.text
    assert "process_resident_memory_bytes" in plain.text
    assert "_created" not in plain.text
    open_metrics = await client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert open_metrics.text.endswith("# EOF\n")

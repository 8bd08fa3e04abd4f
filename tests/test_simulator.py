"""The simulator against the real backend: every webhook accepted, every call finished."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from opbx.api.settings import BackendSettings
from opbx.db.engine import Database
from opbx.db.models import CallLog, OutboxEvent
from opbx.demo import DEMO_PASSWORD, seed_demo
from opbx.simulator import CallProfile, SimulatedOrganization, Simulator
from opbx.system import Backend, HttpServer, start_backend
from tests.helpers.broadcasters import RecordingBroadcaster

pytestmark = pytest.mark.integration


@pytest.fixture
async def backend(database: Database) -> AsyncIterator[tuple[Backend, HttpServer]]:
    backend = await start_backend(BackendSettings(), broadcaster=RecordingBroadcaster(), database=database)
    http = HttpServer(backend.api, "127.0.0.1", 0)
    await http.start()
    yield backend, http
    await http.stop()
    await backend.stop()


async def test_demo_seeding_is_idempotent(database: Database) -> None:
    first = await seed_demo(database)
    again = await seed_demo(database)
    assert first == again
    assert len(first.dids) == 3
    assert first.emails[0] == "admin@demo.opbx"
    assert DEMO_PASSWORD


async def test_simulated_calls_live_whole_lives(database: Database, backend: tuple[Backend, HttpServer]) -> None:
    demo = await seed_demo(database)
    organization = SimulatedOrganization(demo.id, demo.webhook_secret, demo.dids, demo.extensions)
    profile = CallProfile(ring_seconds=(1.0, 3.0), talk_mean_seconds=5.0, talk_max_seconds=10.0)
    simulator = Simulator(f"http://127.0.0.1:{backend[1].port}", [organization], profile=profile, speed=200.0, seed=7)
    try:
        for _ in range(30):
            simulator.start_call()
        await simulator.wait_for_calls()
    finally:
        await simulator.close()
    assert simulator.stats.calls_finished == 30
    assert set(simulator.stats.webhooks) == {200}
    async with database.session() as session:
        rows = await session.execute(select(CallLog.status, func.count()).group_by(CallLog.status))
        statuses = {status: count for status, count in rows.all()}
        events = (await session.execute(select(func.count()).select_from(OutboxEvent))).scalar_one()
    assert sum(statuses.values()) == 30
    assert set(statuses) <= {"completed", "busy", "no_answer", "failed"}
    assert statuses.get("completed", 0) > 10  # a 72 % answer rate, with seed 7
    answered = statuses.get("completed", 0)
    assert events == 30 * 3 + answered  # initiated, ringing and ended for all, answered for those answered

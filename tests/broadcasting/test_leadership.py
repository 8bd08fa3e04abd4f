"""One relay sends; the others tell it of their commits at once (:mod:`opbx.broadcasting.leadership`).

PostgreSQL only: on SQLite there is one process, which always leads.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import event

from opbx.broadcasting import relay as relay_module
from opbx.broadcasting.relay import SYNC_EVENT, OutboxRelay
from opbx.db.engine import Database
from opbx.telephony.ingest import WebhookKind, sign_body
from opbx.telephony.service import CallService
from tests.helpers.broadcasters import RecordingBroadcaster
from tests.helpers.databases import PostgresForTests
from tests.helpers.polling import eventually
from tests.helpers.world import World, build_world


@pytest.fixture
async def two_processes(postgres: PostgresForTests) -> AsyncIterator[tuple[Database, Database]]:
    """The same PostgreSQL database seen by two API processes (each its own engine and sessions)."""
    first = await postgres.fresh()
    second = Database(postgres.url)
    yield first, second
    await second.dispose()
    await first.dispose()


async def test_a_commit_in_a_process_that_does_not_lead_wakes_the_leader(
    two_processes: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Polls a minute apart: the event can only arrive within the test's ten seconds if the leader is told.
    monkeypatch.setattr(relay_module, "_IDLE_POLL", 60.0)
    monkeypatch.setattr(relay_module, "READ_EVERY", 60.0)
    leading_database, other_database = two_processes
    world: World = await build_world(leading_database)
    sent_by_leader = RecordingBroadcaster()
    leader = OutboxRelay(leading_database, sent_by_leader)
    standing_by = OutboxRelay(other_database, RecordingBroadcaster())
    leader.start()
    await eventually(lambda: leader.leadership.leads, "the first relay leads")
    standing_by.start()
    try:
        service = CallService(
            other_database, on_commit=standing_by.committed, tell_leader=standing_by.leadership.tell_leader
        )
        assert not await standing_by.leadership.hold()
        body = json.dumps({"call_id": "elsewhere", "to": world.acme.did_numbers[1], "timestamp": 1_800_000_000})
        await service.handle(WebhookKind.CALL_INITIATED, body.encode(), sign_body(world.acme.secret, body.encode()))

        def calls() -> list[str]:
            return [payload["call_id"] for _, event, payload in sent_by_leader.sent if event != SYNC_EVENT]

        assert await eventually(calls, "the leader sends the other process's event") == ["elsewhere"]
        assert await leader.pending() == 0
    finally:
        await standing_by.stop()
        await leader.stop()


async def test_a_process_standing_by_asks_for_the_lead_once_a_second_not_at_each_commit(
    two_processes: tuple[Database, Database],
) -> None:
    leading_database, other_database = two_processes
    world: World = await build_world(leading_database)
    leader = OutboxRelay(leading_database, RecordingBroadcaster())
    standing_by = OutboxRelay(other_database, RecordingBroadcaster())
    asked: list[str] = []
    event.listen(
        other_database.engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _k, statement, *_: asked.append(statement) if "pg_try_advisory_lock" in statement else None,
    )
    leader.start()
    await eventually(lambda: leader.leadership.leads, "the first relay leads")
    standing_by.start()
    try:
        service = CallService(
            other_database, on_commit=standing_by.committed, tell_leader=standing_by.leadership.tell_leader
        )
        for n in range(20):  # twenty commits, each waking the relay standing by, within well under a second
            body = json.dumps({"call_id": f"c{n}", "to": world.acme.did_numbers[1], "timestamp": 1_800_000_000})
            await service.handle(WebhookKind.CALL_INITIATED, body.encode(), sign_body(world.acme.secret, body.encode()))
        await eventually(lambda: leader.sent_events == 20, "the leader sends all twenty")
        assert 1 <= len(asked) <= 3  # at start, and once a second after
    finally:
        await standing_by.stop()
        await leader.stop()


async def test_the_lead_passes_on_when_the_leaders_connection_is_gone(
    two_processes: tuple[Database, Database],
) -> None:
    first, second = two_processes
    leader = OutboxRelay(first, RecordingBroadcaster()).leadership
    other = OutboxRelay(second, RecordingBroadcaster()).leadership
    assert await leader.hold()
    assert not await other.hold()
    assert await leader.hold()  # kept

    killer = await asyncpg.connect(first.url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    finally:
        await killer.close()
    await eventually(lambda: not leader.leads, "the leader knows its connection is gone")
    assert await other.hold()
    assert not await leader.hold()
    await other.release()
    await leader.release()


async def test_a_leader_that_lets_go_lets_another_lead(two_processes: tuple[Database, Database]) -> None:
    """Its session ends: a connection returned to the pool would keep the lock for the process's life."""
    first, second = two_processes
    leader = OutboxRelay(first, RecordingBroadcaster()).leadership
    other = OutboxRelay(second, RecordingBroadcaster()).leadership
    assert await leader.hold()
    await leader.release()
    assert await other.hold()
    await other.release()

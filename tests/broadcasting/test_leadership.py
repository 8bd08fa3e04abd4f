"""One relay sends; the others tell it of their commits at once (:mod:`opbx.broadcasting.leadership`).

PostgreSQL only: on SQLite there is one process, which always leads.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
from sqlalchemy import event

from opbx.broadcasting import relay as relay_module
from opbx.broadcasting.relay import SYNC_EVENT, OutboxRelay
from opbx.db.engine import Database
from opbx.db.postgresql import driver_url
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


@dataclass
class TwoRelays:
    """A relay in each process, and the webhooks of the second process (the one standing by)."""

    world: World
    leader: OutboxRelay
    sent_by_leader: RecordingBroadcaster
    standing_by: OutboxRelay
    service: CallService

    async def start(self) -> None:
        self.leader.start()
        await eventually(lambda: self.leader.leadership.leads, "the first relay leads")
        self.standing_by.start()

    async def initiate(self, call_id: str) -> None:
        body = json.dumps({"call_id": call_id, "to": self.world.acme.did_numbers[1], "timestamp": 1_800_000_000})
        await self.service.handle(
            WebhookKind.CALL_INITIATED, body.encode(), sign_body(self.world.acme.secret, body.encode())
        )

    def calls_sent(self) -> list[str]:
        return [payload["call_id"] for _, event, payload in self.sent_by_leader.sent if event != SYNC_EVENT]


@pytest.fixture
async def relays(two_processes: tuple[Database, Database]) -> AsyncIterator[TwoRelays]:
    leading_database, other_database = two_processes
    sent_by_leader = RecordingBroadcaster()
    standing_by = OutboxRelay(other_database, RecordingBroadcaster())
    service = CallService(other_database, on_commit=standing_by.committed, leads=lambda: standing_by.leadership.leads)
    world = await build_world(leading_database)
    relays = TwoRelays(world, OutboxRelay(leading_database, sent_by_leader), sent_by_leader, standing_by, service)
    yield relays
    await standing_by.stop()
    await relays.leader.stop()


async def test_a_commit_in_a_process_that_does_not_lead_wakes_the_leader(
    relays: TwoRelays, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Polls a minute apart: the event can only arrive within the test's ten seconds if the leader is told.
    monkeypatch.setattr(relay_module, "_IDLE_POLL", 60.0)
    monkeypatch.setattr(relay_module, "READ_EVERY", 60.0)
    await relays.start()
    assert not await relays.standing_by.leadership.hold()

    await relays.initiate("elsewhere")

    assert await eventually(relays.calls_sent, "the leader sends the other process's event") == ["elsewhere"]

    async def all_marked_sent() -> bool:  # just after the broadcast, not before it
        return await relays.leader.pending() == 0

    assert await eventually(all_marked_sent, "the leader marks it sent")


async def test_a_process_standing_by_asks_for_the_lead_once_a_second_not_at_each_commit(
    relays: TwoRelays, two_processes: tuple[Database, Database]
) -> None:
    asked: list[str] = []
    event.listen(
        two_processes[1].engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _k, statement, *_: asked.append(statement) if "pg_try_advisory_lock" in statement else None,
    )
    await relays.start()
    for n in range(20):  # twenty commits in the process standing by, within well under a second
        await relays.initiate(f"c{n}")
    await eventually(lambda: relays.leader.sent_events == 20, "the leader sends all twenty")
    assert 1 <= len(asked) <= 3  # at start, and once a second after


async def test_the_lead_passes_on_when_the_leaders_connection_is_gone(
    two_processes: tuple[Database, Database],
) -> None:
    first, second = two_processes
    leader = OutboxRelay(first, RecordingBroadcaster()).leadership
    other = OutboxRelay(second, RecordingBroadcaster()).leadership
    assert await leader.hold()
    assert not await other.hold()
    assert await leader.hold()  # kept

    killer = await asyncpg.connect(driver_url(first.url))
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

"""Webhooks through the state machine into the call log and the outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine

from opbx.db.engine import Database
from opbx.db.models import CallLog, Organization, OutboxEvent, ProviderRecord
from opbx.db.postgresql import driver_url
from opbx.telephony.ingest import InvalidWebhook, WebhookKind, sign_body
from opbx.telephony.pg_store import PgCallStore
from opbx.telephony.service import CallService, Outcome, UnknownDid, WebhookForbidden, WebhookUnauthorized
from opbx.telephony.store import Conflict, Lookup, Snapshot
from tests.helpers.clock import ManualClock
from tests.helpers.world import World

T0 = 1_800_000_000  # 2027-01-15T08:00:00Z


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


class Provider:
    """Sends signed webhooks the way Cloudonix does, straight to the service."""

    def __init__(self, service: CallService, secret: str) -> None:
        self.service = service
        self.secret = secret

    async def send(self, kind: WebhookKind, payload: bytes, secret: str | None = None) -> Any:
        return await self.service.handle(kind, payload, sign_body(secret or self.secret, payload))

    async def initiated(self, call_id: str, did: str, at: int = T0) -> Any:
        payload = body(call_id=call_id, **{"from": "+15551234567"}, to=did, did=did, timestamp=at, direction="inbound")
        return await self.send(WebhookKind.CALL_INITIATED, payload)

    async def status(self, call_id: str, status: str, at: int = T0, **extra: Any) -> Any:
        payload = body(callIds=[call_id], status=status, modifiedAt=at * 1000, **extra)
        return await self.send(WebhookKind.CALL_STATUS, payload)

    async def cdr(self, call_id: str, did: str, disposition: str, billsec: int, **extra: Any) -> Any:
        payload = body(
            call_id=call_id,
            **{"from": "+15559876543"},
            to=did,
            disposition=disposition,
            duration=billsec + 5,
            billsec=billsec,
            **extra,
        )
        return await self.send(WebhookKind.CDR, payload)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(wall=T0 + 100)


@pytest.fixture
def service(database: Database, clock: ManualClock) -> CallService:
    return CallService(database, clock=clock)


@pytest.fixture
def acme(service: CallService, world: World) -> Provider:
    return Provider(service, world.acme.secret)


async def outbox(database: Database) -> list[OutboxEvent]:
    async with database.session() as session:
        return list((await session.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars())


async def call(database: Database, call_id: str) -> CallLog:
    async with database.session() as session:
        return (await session.execute(select(CallLog).where(CallLog.call_id == call_id))).scalar_one()


async def test_a_full_lifecycle_broadcasts_the_seeds_payloads_and_ringing(
    database: Database, world: World, acme: Provider
) -> None:
    did = world.acme.did_numbers[0]  # routed to extension 101, whose user is Acme Admin
    assert (await acme.initiated("c1", did)).events == ("call.initiated",)
    assert (await acme.status("c1", "ringing", T0 + 1)).events == ("call.ringing",)
    answered = await acme.status("c1", "in-progress", T0 + 5, answerTime=(T0 + 5) * 1000)
    assert answered.events == ("call.answered",)
    ended = await acme.status("c1", "completed", T0 + 65, answerTime=(T0 + 5) * 1000, endTime=(T0 + 65) * 1000)
    assert (ended.outcome, ended.status, ended.events) == (Outcome.APPLIED, "completed", ("call.ended",))

    events = await outbox(database)
    assert [event.name for event in events] == ["call.initiated", "call.ringing", "call.answered", "call.ended"]
    org_channel, ext_channel = f"presence-org.{world.acme.id}", f"private-extension.{world.acme.extension_ids[0]}"
    assert [event.channels for event in events] == [
        [org_channel],
        [org_channel, ext_channel],
        [org_channel, ext_channel],
        [org_channel, ext_channel],
    ]
    payloads = [dict(event.payload) for event in events]
    assert all(isinstance(payload.pop("event_id"), str) for payload in payloads)
    # Beside the seed's fields: the organization's sequence number, counting from 1 in commit order.
    assert [payload.pop("seq") for payload in payloads] == [1, 2, 3, 4]
    assert [event.seq for event in events] == [1, 2, 3, 4]
    initiated, ringing, answered_event, ended_event = payloads
    assert initiated == {
        "call_id": "c1",
        "from_number": "+15551234567",
        "to_number": did,
        "did_id": world.acme.did_ids[0],
        "status": "initiated",
        "initiated_at": "2027-01-15T08:00:00.000Z",
    }
    assert ringing == {
        "call_id": "c1",
        "status": "ringing",
        "ringing_at": "2027-01-15T08:00:01.000Z",
        "extension_id": world.acme.extension_ids[0],
    }
    assert answered_event == {
        "call_id": "c1",
        "status": "answered",
        "answered_at": "2027-01-15T08:00:05.000Z",
        "extension_id": world.acme.extension_ids[0],
        "answered_by": {"id": world.acme.user_ids[0], "name": "Acme Admin", "extension_number": "101"},
    }
    assert ended_event == {
        "call_id": "c1",
        "status": "completed",
        "ended_at": "2027-01-15T08:01:05.000Z",
        "duration": 60,
    }
    row = await call(database, "c1")
    assert (row.status, row.duration, row.organization_id) == ("completed", 60, world.acme.id)
    assert row.ringing_at is not None
    assert row.ringing_at.timestamp() == T0 + 1


async def test_ringing_without_an_extension_goes_to_the_organization_only(
    database: Database, world: World, acme: Provider
) -> None:
    await acme.initiated("c1", world.acme.did_numbers[1])  # a number routed to no extension
    assert (await acme.status("c1", "ringing", T0 + 2)).events == ("call.ringing",)
    ringing = (await outbox(database))[-1]
    assert ringing.channels == [f"presence-org.{world.acme.id}"]
    assert (ringing.payload["extension_id"], ringing.payload["ringing_at"]) == (None, "2027-01-15T08:00:02.000Z")


async def test_ringing_for_a_call_never_seen_creates_it_then_rings(
    database: Database, world: World, acme: Provider
) -> None:
    result = await acme.status("c5", "ringing", T0 + 3, destination=world.acme.did_numbers[0], startTime=T0 * 1000)
    assert result.events == ("call.initiated", "call.ringing")
    row = await call(database, "c5")
    assert (row.status, row.initiated_at.timestamp()) == ("ringing", T0)
    assert row.ringing_at is not None
    assert row.ringing_at.timestamp() == T0 + 3


async def test_a_ringing_report_dated_before_the_call_rings_when_it_began(
    database: Database, world: World, acme: Provider
) -> None:
    await acme.initiated("c1", world.acme.did_numbers[0], at=T0 + 10)
    await acme.status("c1", "ringing", T0 + 4)  # a provider clock behind: never ringing before it began
    row = await call(database, "c1")
    assert row.ringing_at == row.initiated_at


async def test_a_skipped_ringing_is_not_invented(database: Database, world: World, acme: Provider) -> None:
    await acme.initiated("c1", world.acme.did_numbers[0])
    assert (await acme.status("c1", "answered", T0 + 4)).events == ("call.answered",)
    assert (await call(database, "c1")).ringing_at is None


async def test_a_duplicate_webhook_changes_nothing(database: Database, world: World, acme: Provider) -> None:
    did = world.acme.did_numbers[0]
    await acme.initiated("c1", did)
    again = await acme.initiated("c1", did)
    assert again.outcome is Outcome.DUPLICATE
    assert len(await outbox(database)) == 1
    async with database.session() as session:
        assert len((await session.execute(select(ProviderRecord))).all()) == 1


async def test_a_late_ringing_after_answered_is_ignored(database: Database, world: World, acme: Provider) -> None:
    await acme.initiated("c1", world.acme.did_numbers[0])
    await acme.status("c1", "answered", T0 + 3)
    late = await acme.status("c1", "ringing", T0 + 1)
    assert (late.outcome, late.status) == (Outcome.IGNORED, "answered")
    assert [event.name for event in await outbox(database)] == ["call.initiated", "call.answered"]


async def test_answered_for_a_call_never_seen_creates_it(database: Database, world: World, acme: Provider) -> None:
    result = await acme.status(
        "c9", "answered", T0 + 10, destination=world.acme.did_numbers[1], callerId="+15550000000", startTime=T0 * 1000
    )
    assert result.events == ("call.initiated", "call.answered")
    row = await call(database, "c9")
    assert (row.status, row.from_number, row.did_id) == ("answered", "+15550000000", world.acme.did_ids[1])
    assert row.initiated_at.timestamp() == T0


async def test_a_cdr_for_a_call_never_seen_walks_the_whole_lifecycle(
    database: Database, world: World, acme: Provider
) -> None:
    result = await acme.cdr("c7", world.acme.did_numbers[0], "ANSWERED", 42, recording_url="https://rec/c7.mp3")
    assert result.events == ("call.initiated", "call.answered", "call.ended")
    ended = (await outbox(database))[-1].payload
    assert (ended["status"], ended["duration"], ended["recording_url"]) == ("completed", 42, "https://rec/c7.mp3")


async def test_a_terminal_status_is_final_but_a_cdr_may_fill_in(
    database: Database, world: World, acme: Provider
) -> None:
    did = world.acme.did_numbers[0]
    await acme.initiated("c1", did)
    await acme.status("c1", "answered", T0 + 2)
    await acme.status("c1", "completed", T0 + 32)
    contradiction = await acme.status("c1", "failed", T0 + 40)
    assert (contradiction.outcome, contradiction.status) == (Outcome.IGNORED, "completed")
    cdr = await acme.cdr("c1", did, "ANSWERED", 29, recording_url="https://rec/c1.mp3")
    assert cdr.outcome is Outcome.IGNORED
    assert cdr.reason is not None
    assert "recording_url" in cdr.reason
    row = await call(database, "c1")
    assert (row.status, row.duration, row.recording_url) == ("completed", 29, "https://rec/c1.mp3")
    assert [event.name for event in await outbox(database)] == ["call.initiated", "call.answered", "call.ended"]


async def test_a_report_contradicting_a_final_state_changes_nothing_it_recorded(
    database: Database, world: World, acme: Provider
) -> None:
    did = world.acme.did_numbers[0]
    await acme.initiated("c2", did)
    await acme.status("c2", "answered", T0 + 2)
    await acme.status("c2", "completed", T0 + 32)
    before = await call(database, "c2")
    contradiction = await acme.cdr("c2", did, "BUSY", 99, recording_url="https://rec/other.mp3")
    assert (contradiction.outcome, contradiction.status) == (Outcome.IGNORED, "completed")
    assert contradiction.reason == "completed is final; a report of busy changes nothing"
    after = await call(database, "c2")
    assert (after.status, after.duration, after.recording_url, after.ended_at) == (
        before.status,
        before.duration,
        before.recording_url,
        before.ended_at,
    )


@pytest.mark.parametrize(
    ("status", "final"),
    [("busy", "busy"), ("no-answer", "no_answer"), ("canceled", "no_answer"), ("failed", "failed")],
)
async def test_unanswered_endings(database: Database, world: World, acme: Provider, status: str, final: str) -> None:
    await acme.initiated("c1", world.acme.did_numbers[1])
    result = await acme.status("c1", status, T0 + 20)
    assert result.events == ("call.ended",)
    ended = (await outbox(database))[-1]
    assert ended.channels == [f"presence-org.{world.acme.id}"]  # no extension on this number
    assert (ended.payload["status"], ended.payload["duration"]) == (final, 0)


async def test_signatures_are_checked_before_anything_else(
    database: Database, world: World, service: CallService, acme: Provider
) -> None:
    payload = body(call_id="c1", to=world.acme.did_numbers[0], timestamp=T0)
    with pytest.raises(WebhookUnauthorized):
        await service.handle(WebhookKind.CALL_INITIATED, payload, None)
    with pytest.raises(WebhookUnauthorized):
        await service.handle(WebhookKind.CALL_INITIATED, payload, "0" * 64)
    with pytest.raises(WebhookUnauthorized):
        await service.handle(WebhookKind.CALL_INITIATED, b"not even json", "0" * 64)
    assert await outbox(database) == []


async def test_one_organization_cannot_report_anothers_calls(
    database: Database, world: World, service: CallService, acme: Provider
) -> None:
    globex = Provider(service, world.globex.secret)
    with pytest.raises(WebhookForbidden):
        await globex.initiated("c1", world.acme.did_numbers[0])
    await acme.initiated("c2", world.acme.did_numbers[0])
    with pytest.raises(WebhookForbidden):
        await globex.status("c2", "completed")
    # Not even "duplicate": resending Acme's very body, signed by Globex, says nothing of the call.
    with pytest.raises(WebhookForbidden):
        await globex.initiated("c2", world.acme.did_numbers[0])
    assert [event.call_id for event in await outbox(database)] == ["c2"]


async def test_unknown_numbers_and_bodies_are_refused(world: World, acme: Provider) -> None:
    with pytest.raises(UnknownDid):
        await acme.initiated("c1", "+19999999999")
    with pytest.raises(InvalidWebhook):
        await acme.send(WebhookKind.CALL_STATUS, body(callIds=["c1"], status="teleported"))
    with pytest.raises(InvalidWebhook):
        await acme.send(WebhookKind.CALL_INITIATED, b"[1, 2]")


async def test_unknown_fields_are_kept(database: Database, world: World, acme: Provider) -> None:
    payload = body(call_id="c1", to=world.acme.did_numbers[0], timestamp=T0, vendor_extra={"queue": "sales"})
    await acme.send(WebhookKind.CALL_INITIATED, payload)
    async with database.session() as session:
        record = (await session.execute(select(ProviderRecord))).scalar_one()
    assert record.body["vendor_extra"] == {"queue": "sales"}


async def test_racing_webhooks_for_one_call_lose_nothing(database: Database, world: World, acme: Provider) -> None:
    did = world.acme.did_numbers[0]
    # Every report of a call's life arrives at once, out of order, some twice.
    results = await asyncio.gather(
        acme.status("race", "completed", T0 + 30, destination=did, answerTime=(T0 + 5) * 1000),
        acme.initiated("race", did),
        acme.status("race", "ringing", T0 + 1, destination=did),
        acme.status("race", "answered", T0 + 5, destination=did),
        acme.initiated("race", did),
        acme.status("race", "answered", T0 + 5, destination=did),
    )
    assert sum(result.outcome is Outcome.DUPLICATE for result in results) == 2
    names = [event.name for event in await outbox(database)]
    # A ringing that lands before the answer rings; after it, it is behind and changes nothing.
    assert names in (
        ["call.initiated", "call.answered", "call.ended"],
        ["call.initiated", "call.ringing", "call.answered", "call.ended"],
    )
    row = await call(database, "race")
    assert row.status == "completed"
    async with database.session() as session:
        assert len((await session.execute(select(ProviderRecord))).all()) == 4


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite has no server to cut a connection
async def test_a_pooled_connection_the_server_cut_does_not_fail_a_webhook(
    database: Database, world: World, acme: Provider
) -> None:
    """A connection killed while it sat in the pool (a restart, a proxy's timeout) is replaced:
    pinged when it was idle, else absorbed by the unit of work's retry."""
    did = world.acme.did_numbers[0]
    await acme.initiated("before", did)  # the pool now holds a connection that has been used

    async def cut_the_pools_connections() -> None:  # from a connection of our own, outside the pool
        killer = await asyncpg.connect(driver_url(database.url))
        try:
            cut = await killer.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await killer.close()
        assert cut >= 1

    await cut_the_pools_connections()
    assert (await acme.initiated("just-after-the-cut", did)).outcome is Outcome.APPLIED
    await cut_the_pools_connections()
    await asyncio.sleep(1.2)  # idle past the ping threshold: this time the check-out's ping finds it dead
    assert (await acme.initiated("after-idling", did)).outcome is Outcome.APPLIED
    assert {event.call_id for event in await outbox(database)} == {"before", "just-after-the-cut", "after-idling"}


async def rotate_elsewhere(database: Database, organization_id: int, secret: str) -> None:
    """The secret changed by another process: this service's memory of it is not told."""
    async with database.session() as session, session.begin():
        await session.execute(
            update(Organization).where(Organization.id == organization_id).values(webhook_secret=secret)
        )


async def test_a_secret_rotated_elsewhere_refuses_the_old_one_at_once_on_every_path(
    database: Database, world: World, service: CallService, acme: Provider
) -> None:
    did = world.acme.did_numbers[0]
    await acme.initiated("known", did)  # the service now remembers Acme's secret
    await rotate_elsewhere(database, world.acme.id, "the-new-secret")

    with pytest.raises(WebhookUnauthorized):  # a new call: the seq's statement finds the secret changed
        await acme.initiated("after-rotation", did)
    with pytest.raises(WebhookUnauthorized):  # a duplicate takes no seq: confirmed by a read of its own
        await acme.initiated("known", did)
    await rotate_elsewhere(database, world.acme.id, world.acme.secret)
    await acme.initiated("remembered-again", did)
    await rotate_elsewhere(database, world.acme.id, "the-new-secret")
    with pytest.raises(WebhookUnauthorized):  # a refusal is not told to the holder of a rotated secret
        await acme.initiated("to-nowhere", "+19999999999")
    with pytest.raises(WebhookUnauthorized):
        await acme.status("known", "teleported")

    rotated = Provider(service, "the-new-secret")
    assert (await rotated.initiated("with-the-new-secret", did)).outcome is Outcome.APPLIED
    assert [event.call_id for event in await outbox(database)] == ["known", "remembered-again", "with-the-new-secret"]


def statements(database: Database) -> list[str]:
    """Every statement run from now on, through SQLAlchemy and, on PostgreSQL, on the webhook path's own connections.

    Call it before the database's first webhook: asyncpg's loggers go on connections as they open.
    """
    writer = getattr(database, "_writer", None)
    engine: Engine = writer.engine if writer is not None else database.engine.sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's, sent as a statement; asyncpg's is not
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    if database.driver is not None:
        database.driver.query_loggers.append(lambda logged: seen.append(logged.query))
    return seen


def reading_secrets(run: list[str]) -> list[str]:
    """The statements that read secrets alone (each webhook's read reads its organization's too)."""
    return [text for text in run if text.startswith("SELECT organizations.id, organizations.webhook_secret")]


async def test_a_remembered_secret_is_not_read_again(database: Database, world: World, acme: Provider) -> None:
    run = statements(database)
    did = world.acme.did_numbers[0]
    await acme.initiated("first", did)
    await acme.status("first", "answered")
    await acme.initiated("second", did)
    assert len(reading_secrets(run)) == 1  # the first webhook's; the others' reads confirmed it


async def test_a_webhook_is_two_statements_on_postgresql(database: Database, world: World, acme: Provider) -> None:
    """Each statement on PostgreSQL is a round trip: one reads all a webhook needs, one writes all it changed."""
    run = statements(database)
    did = world.acme.did_numbers[0]
    await acme.initiated("warm", did)  # the secret is remembered from here on
    run.clear()
    await acme.initiated("new", did)
    new_call = list(run)
    run.clear()
    await acme.status("new", "answered")
    answered = list(run)
    run.clear()
    await acme.status("new", "answered")  # a duplicate: read, and nothing to write
    duplicate = list(run)

    if database.is_sqlite:  # where a statement is no round trip: the seq, then one per table
        assert len(new_call) == len(answered) == 5, (new_call, answered)
    else:
        assert len(new_call) == len(answered) == 2, (new_call, answered)
        assert not any(text.startswith(("BEGIN", "COMMIT")) for text in new_call + answered)
    assert len(duplicate) == 1, duplicate
    assert [event.name for event in await outbox(database)] == ["call.initiated", "call.initiated", "call.answered"]
    answered_call = await call(database, "new")
    assert answered_call.status == "answered"
    async with database.session() as session:
        records = (await session.execute(select(ProviderRecord.call_log_id))).scalars().all()
    assert records.count(answered_call.id) == 2


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite's writer serializes read and write
async def test_a_call_changed_between_a_webhooks_read_and_write_is_applied_again_locked(
    database: Database, world: World, acme: Provider, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write finds the call is no longer the version it read: nothing is written, and the
    webhook runs again in a transaction that locks the call, so it cannot lose that race twice."""
    did = world.acme.did_numbers[0]
    await acme.initiated("contended", did)
    elsewhere = Provider(CallService(database, clock=clock), world.acme.secret)  # another API process
    reading, locking = PgCallStore.read, PgCallStore.lock
    locked: list[str] = []
    interfered: list[str] = []

    async def read_then_let_another_process_in(store: PgCallStore, lookup: Lookup) -> Snapshot:
        snapshot = await reading(store, lookup)
        if lookup.call_id == "contended" and not interfered:
            interfered.append(lookup.call_id)
            await elsewhere.status("contended", "ringing", T0 + 1)  # commits between this read and its write
        return snapshot

    async def lock(store: PgCallStore, call_id: str) -> None:
        locked.append(call_id)
        await locking(store, call_id)

    monkeypatch.setattr(PgCallStore, "read", read_then_let_another_process_in)
    monkeypatch.setattr(PgCallStore, "lock", lock)
    answered = await acme.status("contended", "answered", T0 + 5, answerTime=(T0 + 5) * 1000)

    assert answered.events == ("call.answered",)
    assert locked == ["contended"]
    events = await outbox(database)
    assert [(event.name, event.seq) for event in events] == [
        ("call.initiated", 1),
        ("call.ringing", 2),
        ("call.answered", 3),
    ]
    row = await call(database, "contended")
    # Written from the version that rang: a write from the one read first would have lost ringing_at.
    assert (row.status, row.ringing_at is not None, row.answered_at is not None) == ("answered", True, True)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_webhook_that_loses_every_race_gives_up_with_the_conflict(
    database: Database, world: World, acme: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five attempts, then the error (the API answers 500 and the provider sends it again)."""
    tries: list[str] = []

    async def always_changed(store: PgCallStore, change: Any, *, notify: bool) -> list[tuple[int, int]]:
        tries.append(change.call.call_id)
        raise Conflict("changed again")

    monkeypatch.setattr(PgCallStore, "save", always_changed)
    with pytest.raises(Conflict):
        await acme.initiated("unlucky", world.acme.did_numbers[0])
    assert tries == ["unlucky"] * 5
    assert await outbox(database) == []

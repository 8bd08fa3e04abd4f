"""A webhook's read and write (:mod:`opbx.telephony.store`, :mod:`opbx.telephony.pg_store`), on both databases."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import asyncpg
import orjson
import pytest
from sqlalchemy import func, select, text

from opbx.broadcasting.leadership import CHANNEL
from opbx.db.engine import Database
from opbx.db.models import Organization, OutboxEvent, ProviderRecord
from opbx.db.postgresql import driver_url
from opbx.telephony.pg_store import PgCallStore
from opbx.telephony.store import (
    Call,
    CallChange,
    Conflict,
    DidRow,
    EventRow,
    ExtensionRow,
    Lookup,
    Snapshot,
    SqlCallStore,
)
from tests.helpers.world import World

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


async def read(database: Database, lookup: Lookup) -> Snapshot:
    if database.driver is not None:
        async with database.driver.connection() as connection:
            return await PgCallStore(connection).read(lookup)
    return await database.write(lambda connection: SqlCallStore(connection).read(lookup))


async def save(database: Database, change: CallChange, *, notify: bool = False) -> list[tuple[int, int]]:
    if database.driver is not None:
        async with database.driver.connection() as connection:
            return await PgCallStore(connection).save(change, notify=notify)
    return await database.write(lambda connection: SqlCallStore(connection).save(change))


def lookup(world: World, call_id: str, *, digest: str = "d0", extension: str | None = None) -> Lookup:
    return Lookup(
        organization_id=world.acme.id,
        call_id=call_id,
        digest=digest,
        number=world.acme.did_numbers[0],
        extension=extension,
    )


def new_call(world: World, call_id: str) -> Call:
    return Call(
        call_id=call_id,
        organization_id=world.acme.id,
        direction="inbound",
        from_number="+15551234567",
        to_number=world.acme.did_numbers[0],
        did_id=world.acme.did_ids[0],
        extension_id=world.acme.extension_ids[0],
        status="initiated",
        initiated_at=NOW,
        updated_at=NOW,
    )


def change(
    world: World,
    call: Call,
    write_call: Literal["insert", "update", "none"],
    *,
    events: int = 1,
    version: int = 0,
    digest: str | None = None,
    secret: str | None = None,
) -> CallChange:
    return CallChange(
        call=call,
        write_call=write_call,
        version=version,
        secret=secret or world.acme.secret,
        record={"kind": "call-status", "digest": digest or uuid.uuid4().hex, "body": {"n": 1}, "received_at": NOW},
        events=[
            EventRow(
                event_id=str(uuid.uuid4()),
                name=f"event.{n}",
                channels=[f"presence-org.{world.acme.id}"],
                payload={"call_id": call.call_id, "n": n},
            )
            for n in range(events)
        ],
        now=NOW,
    )


async def count(database: Database, table: type[Any]) -> int:
    async with database.reader() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def event_seq(database: Database, world: World) -> int:
    async with database.reader() as session:
        seq = (await session.execute(select(Organization.event_seq).where(Organization.id == world.acme.id))).scalar()
        return int(seq or 0)


async def test_one_read_gets_all_a_webhook_may_need(database: Database, world: World) -> None:
    unseen = await read(database, lookup(world, "c1", extension="102"))
    acme = world.acme
    assert unseen.secret == acme.secret
    assert (unseen.call, unseen.received) == (None, False)
    assert unseen.did == DidRow(acme.did_ids[0], acme.id, acme.did_numbers[0], acme.extension_ids[0])
    assert unseen.extension == ExtensionRow(acme.extension_ids[0], "101", acme.user_ids[0], "Acme Admin")
    assert unseen.answering == ExtensionRow(acme.extension_ids[1], "102", acme.user_ids[1], "Acme Agent")

    call = new_call(world, "c1")
    await save(database, change(world, call, "insert", digest="d0"))
    known = await read(database, lookup(world, "c1"))
    assert known.call is not None
    assert known.call == replace(call, id=known.call.id)
    assert known.received  # this very body was written with the call
    assert known.did is None  # a known call is not routed again
    assert known.extension == unseen.extension
    assert known.answering is None
    assert not (await read(database, lookup(world, "c1", digest="another body"))).received


async def test_an_organization_gone_reads_as_no_secret(database: Database, world: World) -> None:
    snapshot = await read(database, replace(lookup(world, "c1"), organization_id=world.acme.id + 100))
    assert snapshot.secret is None


async def test_the_write_takes_consecutive_seqs_each_also_the_last_key_of_its_payload(
    database: Database, world: World
) -> None:
    first = await save(database, change(world, new_call(world, "c1"), "insert", events=1))
    assert [seq for _, seq in first] == [1]
    call = (await read(database, lookup(world, "c1"))).call
    assert call is not None
    version = (await read(database, lookup(world, "c1"))).version
    walked = await save(database, change(world, replace(call, status="completed"), "update", events=3, version=version))
    assert [seq for _, seq in walked] == [2, 3, 4]
    async with database.reader() as session:
        rows = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars().all()
    assert [(row.id, row.seq) for row in rows] == first + walked
    assert [list(row.payload) for row in rows[1:]] == [["call_id", "n", "seq"]] * 3
    assert [row.payload["seq"] for row in rows] == [1, 2, 3, 4]
    assert [row.payload["n"] for row in rows] == [0, 0, 1, 2]
    assert await event_seq(database, world) == 4


async def test_a_write_under_a_secret_rotated_since_writes_nothing(database: Database, world: World) -> None:
    with pytest.raises(Conflict):
        await save(database, change(world, new_call(world, "c1"), "insert", secret="rotated-since"))
    assert (await count(database, ProviderRecord), await count(database, OutboxEvent)) == (0, 0)
    assert await event_seq(database, world) == 0
    assert (await read(database, lookup(world, "c1"))).call is None


postgresql_only = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


@postgresql_only
async def test_a_write_decided_on_a_call_changed_since_writes_nothing(database: Database, world: World) -> None:
    await save(database, change(world, new_call(world, "c1"), "insert"))
    stale = await read(database, lookup(world, "c1"))
    assert stale.call is not None
    assert stale.version != 0
    fresh = await save(database, change(world, replace(stale.call, status="ringing"), "update", version=stale.version))
    assert [seq for _, seq in fresh] == [2]
    records, events = await count(database, ProviderRecord), await count(database, OutboxEvent)

    for write_call in ("update", "none"):  # decided on the version before "ringing"
        answered = replace(stale.call, status="answered", answered_at=NOW + timedelta(seconds=5))
        with pytest.raises(Conflict):
            await save(database, change(world, answered, write_call, version=stale.version))

    assert (await count(database, ProviderRecord), await count(database, OutboxEvent)) == (records, events)
    assert await event_seq(database, world) == 2
    now = await read(database, lookup(world, "c1"))
    assert now.call is not None
    assert (now.call.status, now.call.answered_at) == ("ringing", None)
    assert now.version != stale.version


@postgresql_only
async def test_two_writes_creating_one_call_the_second_fails_whole(database: Database, world: World) -> None:
    await save(database, change(world, new_call(world, "c1"), "insert"))
    with pytest.raises(asyncpg.UniqueViolationError):
        await save(database, change(world, new_call(world, "c1"), "insert"))
    assert (await count(database, ProviderRecord), await count(database, OutboxEvent)) == (1, 1)
    assert await event_seq(database, world) == 1


@postgresql_only
async def test_the_write_notifies_the_leading_relay_only_when_asked(database: Database, world: World) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener: Any = await asyncpg.connect(driver_url(database.url))
    await listener.add_listener(CHANNEL, lambda *args: heard.put_nowait(args[2]))
    try:
        await save(database, change(world, new_call(world, "quiet"), "insert"), notify=False)
        await save(database, change(world, new_call(world, "told"), "insert"), notify=True)
        async with asyncio.timeout(5):
            assert await heard.get() == CHANNEL
        await asyncio.sleep(0.2)
        assert heard.empty()  # one notification: the second write's
    finally:
        await listener.close()


@postgresql_only
async def test_the_read_and_the_write_are_two_statements_without_a_transaction(
    database: Database, world: World
) -> None:
    assert database.driver is not None
    run: list[str] = []
    database.driver.query_loggers.append(lambda logged: run.append(logged.query))
    await read(database, lookup(world, "warm"))  # a new connection first asks the server about types
    await save(database, change(world, new_call(world, "warm"), "insert", events=3))
    run.clear()
    snapshot = await read(database, lookup(world, "c1"))
    assert snapshot.call is None
    await save(database, change(world, new_call(world, "c1"), "insert", events=3))
    assert len(run) == 2
    assert not any(statement.lstrip().upper().startswith(("BEGIN", "COMMIT")) for statement in run)
    async with database.reader() as session:
        raw = (await session.execute(text("SELECT payload::text FROM outbox_events ORDER BY id"))).scalars().all()
    assert [orjson.loads(payload)["seq"] for payload in raw] == [1, 2, 3, 4, 5, 6]

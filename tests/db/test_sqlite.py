"""SQLite's writer thread: group commit, each write in a savepoint of its own (:mod:`opbx.db.sqlite`)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from opbx.db.sqlite import SqliteWriter


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[SqliteWriter]:
    writer = SqliteWriter(str(tmp_path / "writer.sqlite3"), echo=False, engine_options={})
    await writer.run(lambda connection: connection.execute(text("CREATE TABLE notes (body TEXT UNIQUE)")))
    yield writer
    await writer.close()


def commits(writer: SqliteWriter) -> list[str]:
    seen: list[str] = []
    event.listen(writer.engine, "commit", lambda _connection: seen.append("commit"))
    return seen


def insert(body: str, *, then: Callable[[], None] = lambda: None) -> Callable[[Connection], str]:
    def unit(connection: Connection) -> str:
        connection.execute(text("INSERT INTO notes VALUES (:body)"), {"body": body})
        then()
        return body

    return unit


async def notes(writer: SqliteWriter) -> list[str]:
    rows = await writer.run(
        lambda c: list(c.execute(text("SELECT body FROM notes ORDER BY body")).scalars()), reading=True
    )
    return list(rows)


async def queued_behind_a_slow_write(writer: SqliteWriter, units: list[Callable[[Connection], Any]]) -> list[Any]:
    """Run ``units`` queued while another write holds the thread; their results or errors."""
    release = threading.Event()
    entered = threading.Event()

    def slow(connection: Connection) -> str:
        entered.set()
        release.wait(5)
        return insert("first")(connection)

    first = asyncio.ensure_future(writer.run(slow))
    await asyncio.to_thread(entered.wait, 5)
    queued = [asyncio.ensure_future(writer.run(unit)) for unit in units]
    await asyncio.sleep(0.05)  # all of them on the queue before the thread comes back for more
    release.set()
    assert await first == "first"
    return list(await asyncio.gather(*queued, return_exceptions=True))


async def test_writes_queued_together_commit_together(writer: SqliteWriter) -> None:
    seen = commits(writer)
    results = await queued_behind_a_slow_write(writer, [insert(f"note-{n}") for n in range(5)])
    assert results == [f"note-{n}" for n in range(5)]
    assert seen == ["commit", "commit"]  # the slow one alone, then the five queued behind it at once
    assert await notes(writer) == ["first", *(f"note-{n}" for n in range(5))]


async def test_a_write_that_fails_in_a_group_is_rolled_back_alone(writer: SqliteWriter) -> None:
    def fail() -> None:
        raise ValueError("refused after writing")

    results = await queued_behind_a_slow_write(
        writer, [insert("before"), insert("failing", then=fail), insert("first"), insert("after")]
    )
    assert (results[0], results[3]) == ("before", "after")
    assert isinstance(results[1], ValueError)
    assert "UNIQUE" in str(results[2])  # a database error is that unit's alone too
    assert await notes(writer) == ["after", "before", "first"]


async def test_a_write_alone_that_fails_writes_nothing(writer: SqliteWriter) -> None:
    def fail() -> None:
        raise ValueError("refused after writing")

    with pytest.raises(ValueError, match="refused after writing"):
        await writer.run(insert("lost", then=fail))
    assert await notes(writer) == []


async def test_closing_finishes_what_was_queued(tmp_path: Path) -> None:
    path = tmp_path / "closing.sqlite3"
    writer = SqliteWriter(str(path), echo=False, engine_options={})
    await writer.run(lambda connection: connection.execute(text("CREATE TABLE notes (body TEXT UNIQUE)")))
    queued = [asyncio.ensure_future(writer.run(insert(f"n{n}"))) for n in range(20)]
    await asyncio.sleep(0)
    await writer.close()
    assert [await future for future in queued] == [f"n{n}" for n in range(20)]
    reopened = SqliteWriter(str(path), echo=False, engine_options={})
    assert len(await notes(reopened)) == 20
    await reopened.close()

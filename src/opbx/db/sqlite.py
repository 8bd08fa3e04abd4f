"""SQLite: its connection settings, and the one thread that writes.

Connections run in WAL mode with ``synchronous=NORMAL`` and begin their write transactions
with ``BEGIN IMMEDIATE``, so two writers wait for each other instead of failing with
"database is locked" halfway through a read-then-write.

:class:`SqliteWriter` runs every unit of work on the file in one thread, on connections it
keeps open. Writes that queue up while one runs are committed together (group commit): one
``BEGIN IMMEDIATE`` and one ``COMMIT`` for all of them, each in a savepoint of its own
(https://sqlite.org/lang_savepoint.html), so one that fails is rolled back alone and the
others commit. No unit hears its result before the ``COMMIT`` that made it durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection

__all__ = ["READ_ONLY", "SqliteWriter", "begin", "configure_connection"]

T = TypeVar("T")

READ_ONLY = "opbx_read_only"
"""The execution option that marks a reader's connection."""
GROUP_LIMIT = 64
"""Writes committed together at most."""


def configure_connection(dbapi_connection: Any, _: Any) -> None:
    """The ``connect`` hook: WAL, foreign keys, the busy timeout, and transactions begun by :func:`begin`."""
    dbapi_connection.isolation_level = None  # let the "begin" hook decide how to begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL syncs at checkpoints, not at every commit: a power cut may lose the
    # last transactions but never corrupts the file (https://sqlite.org/pragma.html#pragma_synchronous).
    # Each webhook is a commit; an fsync each capped one process at ~160 webhooks/s.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def begin(connection: Connection) -> None:
    """The ``begin`` hook. A writer takes the write lock when it begins (so two read-then-write
    transactions wait for each other instead of failing halfway); a reader begins deferred
    and, under WAL, never waits for a writer nor makes one wait."""
    reading = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


@dataclass(slots=True)
class _Work(Generic[T]):
    unit: Callable[[Connection], T]
    reading: bool
    committed: Callable[[float], None] | None
    future: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop
    result: T | None = None
    error: BaseException | None = None


def _settle(done: list[_Work[Any]]) -> None:
    for work in done:
        if work.future.done():  # its caller was cancelled: the work happened all the same
            continue
        if work.error is not None:
            work.future.set_exception(work.error)
        else:
            work.future.set_result(work.result)


class SqliteWriter:
    """A synchronous engine on the SQLite file, and the one thread that runs its transactions."""

    def __init__(self, path: str, *, echo: bool, engine_options: dict[str, Any]) -> None:
        self.engine = create_engine(
            f"sqlite:///{path}", echo=echo, connect_args={"check_same_thread": False}, **engine_options
        )
        event.listen(self.engine, "connect", configure_connection)
        event.listen(self.engine, "begin", begin)
        self._reading = self.engine.execution_options(**{READ_ONLY: True})
        self._connections: dict[bool, Connection] = {}
        self._queue: queue.SimpleQueue[_Work[Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="opbx-sqlite-writer", daemon=True)
        self._thread.start()

    async def run(
        self,
        unit: Callable[[Connection], T],
        *,
        reading: bool = False,
        committed: Callable[[float], None] | None = None,
    ) -> T:
        """Run ``unit`` in a transaction of its own (``reading``) or in a group commit; its result.

        ``committed``, if given, is told the ``COMMIT``'s duration, shared among its group.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Work(unit, reading, committed, future, loop))
        return await future

    async def close(self) -> None:
        """Finish the queued work, close the connections and end the thread."""
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)

    # -- the thread -------------------------------------------------------------

    def _serve(self) -> None:
        held: list[_Work[Any] | None] = []  # taken off the queue while gathering a group, not of it
        while True:
            work = held.pop() if held else self._queue.get()
            if work is None:
                break
            if work.reading:
                self._run([work])
                continue
            group = [work]
            while len(group) < GROUP_LIMIT:
                try:
                    queued = self._queue.get_nowait()
                except queue.Empty:
                    break
                if queued is None or queued.reading:
                    held.append(queued)
                    break
                group.append(queued)
            self._run(group)
        self._close()

    def _connection(self, reading: bool) -> Connection:
        connection = self._connections.get(reading)
        if connection is None or connection.closed or connection.invalidated:
            connection = self._connections[reading] = (self._reading if reading else self.engine).connect()
        return connection

    def _run(self, group: list[_Work[Any]]) -> None:
        """One transaction for the group; with more than one, each unit in a savepoint of its own."""
        connection = self._connection(group[0].reading)
        alone = len(group) == 1
        try:
            with connection.begin():
                for work in group:
                    if alone:  # its failure rolls back the transaction, which is all of its own
                        work.result = work.unit(connection)
                        continue
                    savepoint = connection.begin_nested()
                    try:
                        work.result = work.unit(connection)
                    except Exception as exc:
                        savepoint.rollback()
                        work.error = exc
                    else:
                        savepoint.commit()
                finishing = time.perf_counter()
            share = (time.perf_counter() - finishing) / len(group)
        except BaseException as exc:  # BEGIN, the unit alone, a savepoint or COMMIT failed: nothing is written
            for work in group:
                work.result, work.error = None, exc
        else:
            for work in group:
                if work.error is None and work.committed is not None:
                    work.committed(share)
        self._hand_back(group)

    @staticmethod
    def _hand_back(done: list[_Work[Any]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Work[Any]]] = {}
        for work in done:
            by_loop.setdefault(work.loop, []).append(work)
        for loop, works in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, works)

    def _close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()
        self.engine.dispose()

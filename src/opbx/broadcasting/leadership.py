"""Which API process's relay sends, and how the others' commits reach it at once.

On PostgreSQL several API processes may run a relay; only the holder of a session
advisory lock sends (https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS).
It keeps that lock on a connection of its own, in autocommit, which also ``LISTEN``s on
:data:`CHANNEL`. A process that does not lead has each webhook statement that wrote outbox
rows also ``pg_notify`` (https://www.postgresql.org/docs/current/sql-notify.html,
:mod:`opbx.telephony.pg_store`): the notification is delivered when that statement commits,
and the leader reads the outbox at once instead of at its next poll. The leader's own
webhooks need no notification: they are handed to its relay in memory. On SQLite there is
one process, which always leads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from opbx.db.engine import Database

__all__ = ["CHANNEL", "Leadership"]

_LOCK = 7_304_122_001
"""The PostgreSQL advisory lock key held by the one relay that sends."""
CHANNEL = "opbx_outbox"
"""Where processes that do not lead say they committed outbox rows."""


class Leadership:
    """This process's part in choosing the relay that sends."""

    def __init__(self, database: Database, *, notified: Callable[[], None]) -> None:
        """``notified``: another process committed outbox rows (called on the event loop)."""
        self._database = database
        self._notified = notified
        self._connection: AsyncConnection | None = None
        self._driver: Any = None
        """The asyncpg connection under :attr:`_connection`: it says when the server closed it."""

    @property
    def leads(self) -> bool:
        """Whether this process sends: it holds the lock on a connection still open."""
        if self._database.is_sqlite:
            return True
        return self._driver is not None and not self._driver.is_closed()

    async def hold(self) -> bool:
        """Keep the lead, or take it if nobody has it; whether this process leads."""
        if self.leads:
            return True
        await self.release()  # a lock on a connection the server closed is the server's to give away
        engine = self._database.engine.execution_options(isolation_level="AUTOCOMMIT")
        connection = await engine.connect()
        try:
            taken = (await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK})).scalar()
            if taken:
                driver = (await connection.get_raw_connection()).driver_connection
                assert driver is not None  # an open connection has its driver's
                await driver.add_listener(CHANNEL, self._on_notification)
        except BaseException:
            await connection.close()
            raise
        if not taken:
            await connection.close()
            return False
        self._connection, self._driver = connection, driver
        return True

    def _on_notification(self, *_: Any) -> None:
        self._notified()

    async def release(self) -> None:
        """Give up the lead (ending its session releases the lock); a later :meth:`hold` may take it again."""
        connection, self._connection, self._driver = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                # Closed, not returned to the pool: a pooled session would keep the lock and the LISTEN.
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()

"""Real databases for tests: a SQLite file, and PostgreSQL from ``DATABASE_URL``.

PostgreSQL must be reachable (CI points ``DATABASE_URL`` at the machine's server); a test
that needs it fails, never skips, when it is not. Each test session gets its own
PostgreSQL database, emptied between tests.
"""

from __future__ import annotations

import os
import uuid

from opbx.db.engine import Database
from opbx.db.postgresql import create_database, drop_database, on_database

POSTGRES_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")

_TABLES = (
    "sign_in_throttle, audit_log, provider_records, outbox_events, call_logs, dids, extensions, api_tokens, users, "
    "organizations"
)


class PostgresForTests:
    """One throwaway database per test session."""

    def __init__(self) -> None:
        self.name = f"opbx_test_{uuid.uuid4().hex[:12]}"
        self.url = on_database(POSTGRES_URL, self.name)
        self.created = False
        self._migrated = False

    async def create(self) -> None:
        await create_database(POSTGRES_URL, self.name)
        self.created = True

    async def drop(self) -> None:
        await drop_database(POSTGRES_URL, self.name)

    async def fresh(self) -> Database:
        """The database migrated and empty; created by the first call."""
        if not self.created:
            await self.create()
        database = Database(self.url)
        if not self._migrated:
            await database.migrate()
            self._migrated = True
        else:
            async with database.engine.begin() as connection:
                await connection.exec_driver_sql(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE")
        return database

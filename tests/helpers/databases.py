"""Real databases for tests: a SQLite file, and PostgreSQL from ``DATABASE_URL``.

PostgreSQL must be reachable (CI points ``DATABASE_URL`` at the machine's server); a test
that needs it fails, never skips, when it is not. Each test session gets its own
PostgreSQL database, emptied between tests.
"""

from __future__ import annotations

import os
import uuid

import asyncpg

from opbx.db.engine import Database

POSTGRES_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")

_TABLES = (
    "sign_in_throttle, audit_log, provider_records, outbox_events, call_logs, dids, extensions, api_tokens, users, "
    "organizations"
)


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


class PostgresForTests:
    """One throwaway database per test session."""

    def __init__(self) -> None:
        self.name = f"opbx_test_{uuid.uuid4().hex[:12]}"
        self.url = _with_database(POSTGRES_URL, self.name)
        self.created = False
        self._migrated = False

    async def create(self) -> None:
        connection = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await connection.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await connection.close()
        self.created = True

    async def drop(self) -> None:
        connection = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await connection.close()

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

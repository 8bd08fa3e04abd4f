"""Connecting and migrating: readiness checks that name the fix, and migrations that serialize."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from opbx.configuration import ConfigError, StartupError
from opbx.db.engine import Database, check_database_url
from tests.helpers.databases import PostgresForTests

pytestmark = pytest.mark.integration


def test_only_sqlite_and_postgresql_urls_are_taken() -> None:
    for url in ("sqlite:///var/opbx.sqlite3", "postgresql://u@h/d", "postgres://u@h/d", "postgresql+asyncpg://u@h/d"):
        assert check_database_url(url) == url
    for url in ("mysql://u@h/d", "oracle://x", "var/opbx.sqlite3", ""):
        with pytest.raises(ConfigError, match="unsupported database"):
            check_database_url(url)


async def test_a_database_without_the_schema_is_not_ready(tmp_path: object) -> None:
    database = Database(f"sqlite:///{tmp_path}/empty.sqlite3")
    try:
        with pytest.raises(StartupError, match=r"has no OpBX schema yet, this opbx needs \w+; run `opbx db upgrade`"):
            await database.check_ready()
        await database.migrate()
        await database.check_ready()
    finally:
        await database.dispose()


@pytest.mark.postgres
async def test_processes_migrating_at_once_take_turns() -> None:
    """Two API processes starting together on an empty PostgreSQL database both come up."""
    scratch = PostgresForTests()
    await scratch.create()
    try:
        databases = [Database(scratch.url) for _ in range(3)]
        await asyncio.wait_for(asyncio.gather(*(database.migrate() for database in databases)), 60)
        for database in databases:
            await database.check_ready()
            await database.dispose()
        connection = await asyncpg.connect(scratch.url)
        try:
            assert await connection.fetchval("SELECT count(*) FROM alembic_version") == 1
        finally:
            await connection.close()
    finally:
        await scratch.drop()

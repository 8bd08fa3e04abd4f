"""The webhook path's own asyncpg connections (:mod:`opbx.db.postgresql`), on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from opbx.db.postgresql import DRIVER_ERRORS, DriverPool, driver_url
from tests.helpers.databases import PostgresForTests

pytestmark = pytest.mark.integration


def test_asyncpg_is_given_the_url_without_sqlalchemys_driver_name() -> None:
    assert driver_url("postgresql+asyncpg://u:p%40ss@db.example:6432/opbx?sslmode=require") == (
        "postgresql://u:p%40ss@db.example:6432/opbx?sslmode=require"
    )
    assert driver_url("postgresql://u@h/d") == "postgresql://u@h/d"


@pytest.fixture
async def pool(postgres: PostgresForTests) -> AsyncIterator[DriverPool]:
    database = await postgres.fresh()
    assert database.driver is not None
    yield database.driver
    await database.dispose()


async def backend(pool: DriverPool) -> int:
    async with pool.connection() as connection:
        pid: int = await connection.fetchval("SELECT pg_backend_pid()")
        return pid


async def test_a_connection_goes_back_to_the_pool_without_a_reset_round_trip(pool: DriverPool) -> None:
    """asyncpg's default reset is a statement (``RESET ALL``, ``UNLISTEN *``...) at every return."""
    run: list[str] = []
    pool.query_loggers.append(lambda logged: run.append(logged.query))
    first = await backend(pool)
    second = await backend(pool)
    assert first == second  # the same connection, used twice
    assert run == ["SELECT pg_backend_pid()"] * 2


async def test_a_statement_the_server_refuses_leaves_the_connection_in_the_pool(pool: DriverPool) -> None:
    first = await backend(pool)
    with pytest.raises(asyncpg.UndefinedTableError):
        async with pool.connection() as connection:
            await connection.fetchval("SELECT * FROM no_such_table")
    assert await backend(pool) == first


async def test_a_connection_left_mid_statement_is_never_handed_out_again(pool: DriverPool) -> None:
    first = await backend(pool)

    async def abandon_a_long_statement() -> None:
        async with pool.connection() as connection, asyncio.timeout(0.1):
            await connection.execute("SELECT pg_sleep(5)")

    with pytest.raises(TimeoutError):
        await abandon_a_long_statement()
    assert await backend(pool) != first  # a new connection, and it works


async def test_a_connection_the_server_cut_is_replaced(pool: DriverPool, postgres: PostgresForTests) -> None:
    first = await backend(pool)
    killer: Any = await asyncpg.connect(driver_url(postgres.url))
    try:
        assert await killer.fetchval("SELECT pg_terminate_backend($1)", first)
    finally:
        await killer.close()
    try:  # found closed at check-out, or at its first statement (then closed for good)
        after = await backend(pool)
    except DRIVER_ERRORS:
        after = await backend(pool)
    assert after != first

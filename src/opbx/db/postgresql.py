"""asyncpg connections of their own, for the one path that runs at the provider's pace: webhooks.

Everywhere else the API reaches PostgreSQL through SQLAlchemy. A webhook, though, is two
statements, and SQLAlchemy's check-out, execution context and result proxy cost more CPU
than the statements themselves: measured on this machine, 80-100 µs a check-out and
70-100 µs a statement, against 30 µs for asyncpg's pool and 30 µs a statement
(``docs/benchmarks.md``, issue 11). So :mod:`opbx.telephony.pg_store` runs its statements
on these, straight on asyncpg (https://magicstack.github.io/asyncpg/current/api/index.html).

A connection is not reset when it goes back to the pool: the webhook path leaves no
session state behind (no ``LISTEN``, no advisory lock, no ``SET``), and asyncpg's default
reset is a round trip per check-in. An open transaction is still rolled back, as always.
A connection the server closed is found at its next use, and one that failed any other
way than by the server refusing a statement is closed, so it is never handed out again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from sqlalchemy.engine import make_url

__all__ = ["DRIVER_ERRORS", "DriverPool", "create_database", "driver_url", "drop_database", "on_database"]

_MAX_SIZE = 10
_IDLE_LIFETIME = 300.0

DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
)
"""A connection lost (cut by the server, a restart, the network): worth running the unit again.

asyncpg reports a connection the server cut while it sat in the pool as any of these,
``InternalClientError`` included ("another operation is in progress").
"""


def driver_url(url: str) -> str:
    """``url`` (any PostgreSQL form SQLAlchemy takes) as asyncpg takes it: no driver name."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def on_database(url: str, name: str) -> str:
    """``url`` with its database replaced by ``name`` (host, credentials and query kept)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def _on_server(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(driver_url(server_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def create_database(server_url: str, name: str) -> None:
    """Create database ``name`` on the server of ``server_url`` (a name of our own making, quoted)."""
    await _on_server(server_url, f'CREATE DATABASE "{name}"')


async def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name`` if it exists, its sessions closed first."""
    await _on_server(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _keep_session(connection: Any) -> None:
    """What a connection's return runs instead of asyncpg's reset query (nothing to reset)."""


class DriverPool:
    """A lazily opened asyncpg pool on one database."""

    def __init__(self, url: str, *, max_size: int = _MAX_SIZE) -> None:
        self._url = driver_url(url)
        self._max_size = max_size
        self._pool: Any = None
        self._opening = asyncio.Lock()
        self.query_loggers: list[Callable[[Any], None]] = []
        """Told of every statement each connection runs (asyncpg's ``LoggedQuery``), for tests."""

    async def _opened(self) -> Any:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._url,
                    min_size=0,
                    max_size=self._max_size,
                    max_inactive_connection_lifetime=_IDLE_LIFETIME,
                    reset=_keep_session,
                    init=self._init,
                )
            return self._pool

    async def _init(self, connection: Any) -> None:
        for logger in self.query_loggers:
            connection.add_query_logger(logger)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A pooled connection (an ``asyncpg.Connection``) for the ``async with`` block."""
        pool = await self._opened()
        async with pool.acquire() as connection:
            try:
                yield connection
            except asyncpg.PostgresError as exc:
                if isinstance(exc, DRIVER_ERRORS):
                    connection.terminate()
                raise  # else the server refused a statement: the connection is as good as before
            except BaseException:
                connection.terminate()  # lost, or left mid-statement: never handed out again
                raise

    async def execute(self, statement: str, *arguments: Any) -> None:
        """Run one statement that commits by itself, on a pooled connection."""
        async with self.connection() as connection:
            await connection.execute(statement, *arguments)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

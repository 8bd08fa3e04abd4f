"""Connecting to the database and migrating it.

URLs: ``sqlite:///path`` (the default, ``var/opbx.sqlite3``) or ``postgresql://...``;
the async drivers (aiosqlite, asyncpg) are filled in. SQLite connections begin their
transactions with ``BEGIN IMMEDIATE`` so two writers wait for each other instead of
failing with "database is locked" halfway through a read-then-write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

__all__ = ["DEFAULT_DATABASE_URL", "Database", "async_url"]

DEFAULT_DATABASE_URL = "sqlite:///var/opbx.sqlite3"
_MIGRATIONS = Path(__file__).with_name("migrations")


def async_url(url: str) -> str:
    """The same database with its asyncio driver."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
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


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str = DEFAULT_DATABASE_URL, *, echo: bool = False) -> None:
        self.url = async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        options: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            path = self.url.split(":///", 1)[1] if ":///" in self.url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:
            options.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _begin_immediate)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> AsyncSession:
        return self.sessions()

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        async with self.engine.connect() as connection:
            await connection.run_sync(lambda sync: command.upgrade(_alembic_config(sync), "head"))
            await connection.commit()

    async def dispose(self) -> None:
        await self.engine.dispose()

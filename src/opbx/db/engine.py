"""Connecting to the database and migrating it.

URLs: ``sqlite:///path`` (the default, ``var/opbx.sqlite3``) or ``postgresql://...``;
the async drivers (aiosqlite, asyncpg) are filled in. SQLite's settings and its writer
thread are in :mod:`opbx.db.sqlite`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from opbx.configuration import ConfigError, StartupError, mask_url
from opbx.db.postgresql import DriverPool
from opbx.db.sqlite import READ_ONLY, SqliteWriter, begin, configure_connection

__all__ = ["DEFAULT_DATABASE_URL", "Database", "async_url", "check_database_url", "json_text"]

T = TypeVar("T")

DEFAULT_DATABASE_URL = "sqlite:///var/opbx.sqlite3"
_MIGRATIONS = Path(__file__).with_name("migrations")


def async_url(url: str) -> str:
    """The same database with its asyncio driver."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


_SCHEMES = ("sqlite", "sqlite+aiosqlite", "postgresql", "postgres", "postgresql+asyncpg")
_CONNECT_TIMEOUT = 10.0
_MIGRATION_LOCK = 0x0BB8_0001
"""The PostgreSQL advisory lock key held while migrating (any constant no other code uses)."""


def json_text(value: object) -> str:
    """``value`` as JSON text, as every JSON column stores it (orjson)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


_JSON: dict[str, Any] = {"json_serializer": json_text, "json_deserializer": orjson.loads}
"""JSON columns through orjson: a webhook writes three (its record, its event's channels and payload)."""


def check_database_url(url: str) -> str:
    """The URL if it names a database kind we run on, else a ConfigError saying which ones do."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in _SCHEMES:
        kind = scheme or url[:20]
        raise ConfigError(
            f"DATABASE_URL: unsupported database {kind!r}; use sqlite:///path/to/file.sqlite3 "
            "or postgresql://user:password@host:5432/name"
        )
    return url


def _unreachable(url: str, error: BaseException) -> StartupError:
    """A start-up error that names the database, what went wrong and what to do."""
    shown = mask_url(url)
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    state = getattr(getattr(error, "orig", None), "sqlstate", None)
    if state == "3D000":
        where = f"{parts.hostname}:{parts.port or 5432}" if parts.hostname else "the local server"
        return StartupError(
            f"DATABASE_URL: the database {name!r} does not exist on {where}; "
            f"create it (createdb {name}) or fix DATABASE_URL ({shown})"
        )
    if state in ("28000", "28P01"):
        return StartupError(f"DATABASE_URL: {shown} refused the user or password; fix them in DATABASE_URL")
    reason = str(getattr(error, "orig", None) or error) or type(error).__name__
    return StartupError(
        f"DATABASE_URL: the database at {shown} does not answer ({reason}); start it or fix DATABASE_URL"
    )


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _revisions(connection: Connection) -> tuple[str | None, str | None]:
    """The schema revision the database is at, and the newest one this code knows."""
    current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory.from_config(_alembic_config(connection)).get_current_head()
    return current, head


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str = DEFAULT_DATABASE_URL, *, echo: bool = False) -> None:
        self.display_url = mask_url(check_database_url(url))
        """The URL as the operator wrote it, password masked: for messages."""
        self.url = async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        options: dict[str, Any] = {"echo": echo}
        path = self.url.split(":///", 1)[1] if self.is_sqlite and ":///" in self.url else ""
        if self.is_sqlite:
            if path and path != ":memory:":
                try:
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StartupError(
                        f"DATABASE_URL: cannot create the directory of the SQLite file {path} ({exc.strerror}); "
                        "choose a writable path"
                    ) from None
        else:
            options.update(pool_size=10, max_overflow=10)
        self.engine: AsyncEngine = create_async_engine(self.url, **options, **_JSON)
        self._writer: SqliteWriter | None = None
        self.driver: DriverPool | None = None
        """On PostgreSQL, asyncpg connections of their own for the webhook path (:mod:`opbx.db.postgresql`)."""
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", configure_connection)
            event.listen(self.engine.sync_engine, "begin", begin)
            if path and path != ":memory:":
                self._writer = SqliteWriter(path, echo=echo, engine_options=_JSON)
        else:
            _ping_when_idle(self.engine.sync_engine)
            self.driver = DriverPool(self.url)
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.readers = async_sessionmaker(self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)

    def session(self) -> AsyncSession:
        """A session for a unit of work that writes (on SQLite it holds the write lock)."""
        return self.sessions()

    def reader(self) -> AsyncSession:
        """A session that only reads: on SQLite it takes no write lock, so reads never queue behind writes."""
        return self.readers()

    async def write(self, unit: Callable[[Connection], T], *, committed: Callable[[float], None] | None = None) -> T:
        """Run ``unit`` in one transaction that writes, committed when it returns.

        ``committed``, if given, is told how long the ``COMMIT`` took.

        ``unit`` is synchronous code over a Core :class:`~sqlalchemy.engine.Connection`, so a
        whole unit of work costs one hand-off, not one per statement. On SQLite it runs in
        the one writer thread, on its own connection: the event loop never waits for the
        write lock, and writes queue there instead of racing for it. On PostgreSQL it runs
        on an asyncpg connection (``run_sync``); each statement is still one round trip. (The
        webhooks do not come this way on PostgreSQL: :mod:`opbx.telephony.pg_store`.)
        """
        if self._writer is not None:
            return await self._writer.run(unit, committed=committed)
        async with self.engine.connect() as connection:
            async with connection.begin():
                result = await connection.run_sync(unit)
                finishing = time.perf_counter()
            if committed is not None:
                committed(time.perf_counter() - finishing)
            return result

    async def read(self, unit: Callable[[Connection], T]) -> T:
        """Run ``unit``, one statement that reads; like :meth:`write`, one hand-off.

        On SQLite it runs in the writer thread too (a deferred ``BEGIN``, so it takes no
        write lock). On PostgreSQL it runs in autocommit: the statement is its own
        transaction, with no ``BEGIN`` and ``ROLLBACK`` round trips around it.
        """
        if self._writer is not None:
            return await self._writer.run(unit, reading=True)
        return await self._in_autocommit(unit)

    async def write_alone(self, unit: Callable[[Connection], T]) -> T:
        """Run ``unit``, one statement that writes and is atomic by itself, committed alone:
        on PostgreSQL in autocommit (no ``BEGIN``/``COMMIT`` round trips); on SQLite as :meth:`write`."""
        if self._writer is not None:
            return await self._writer.run(unit)
        return await self._in_autocommit(unit)

    async def _in_autocommit(self, unit: Callable[[Connection], T]) -> T:
        async with self._autocommit.connect() as connection:
            return await connection.run_sync(unit)

    async def ping(self) -> None:
        """Connect and run ``SELECT 1``, or raise a StartupError saying what is wrong and what to do."""
        try:
            async with asyncio.timeout(_CONNECT_TIMEOUT), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (OSError, DBAPIError, TimeoutError) as exc:
            raise _unreachable(self.display_url, exc) from None

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        await self.ping()
        async with self.engine.connect() as connection:
            if not self.is_sqlite:  # API processes starting together migrate one after the other
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            await connection.run_sync(lambda sync: command.upgrade(_alembic_config(sync), "head"))
            await connection.commit()

    async def check_ready(self) -> None:
        """The database answers and its schema is the newest; else a StartupError naming the fix."""
        await self.ping()
        async with self.engine.connect() as connection:
            current, head = await connection.run_sync(_revisions)
        if current != head:
            found = f"is at schema revision {current}" if current else "has no OpBX schema yet"
            raise StartupError(
                f"DATABASE_URL: {self.display_url} {found}, this opbx needs {head}; run `opbx db upgrade`"
            )

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.driver is not None:
            await self.driver.close()
        if self._writer is not None:  # later writes, if any, go through the asyncio engine
            writer, self._writer = self._writer, None
            await writer.close()


_IDLE_BEFORE_PING = 1.0
"""Seconds a pooled PostgreSQL connection may sit unused and still be trusted without a ping."""


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection on check-out only when it has been idle a while.

    ``pool_pre_ping`` pings at every check-out: a round trip per transaction, which was a
    tenth of a webhook's. A connection in steady use is known alive; one that sat idle may
    have been cut (a database restart, a proxy's idle timeout), so it is pinged and, if
    dead, replaced. One cut in the last second shows as an invalidated connection, which the
    unit of work's retry absorbs (:mod:`opbx.telephony.service`).
    """

    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _: Any) -> None:
        idle_since = record.info.get("checked_in_at")
        if idle_since is not None and time.monotonic() - idle_since > _IDLE_BEFORE_PING:
            try:
                alive = engine.dialect.do_ping(dbapi_connection)
            except Exception as exc:
                raise DisconnectionError(f"pooled connection dead: {exc}") from exc
            if not alive:
                raise DisconnectionError("pooled connection dead")

    def checkin(_: Any, record: ConnectionPoolEntry) -> None:
        record.info["checked_in_at"] = time.monotonic()

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)

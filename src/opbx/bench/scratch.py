"""The bench's own database: migrated, seeded with the demo, and gone afterwards.

With no URL it is SQLite in a temporary directory. A SQLite URL is used as given. A
PostgreSQL URL names only the server: the bench creates a database of its own there
(``opbx_bench_<8 hex>``), so the data of the named one is never touched, and drops it
afterwards, also when the run fails.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from opbx.configuration import ConfigError
from opbx.db.engine import Database, check_database_url
from opbx.db.postgresql import create_database, drop_database, on_database
from opbx.demo import DemoOrganization, seed_demo

__all__ = ["BenchDatabase", "bench_database", "chosen_url", "is_postgres"]


@dataclass(frozen=True, slots=True)
class BenchDatabase:
    """Where the system under test keeps its data, and the demo organization seeded there."""

    url: str
    kind: str
    """``sqlite`` or ``postgresql``."""
    organization: DemoOrganization


def is_postgres(url: str) -> bool:
    return url.startswith("postgres")


def chosen_url(layout: str, given: str | None, env: Mapping[str, str]) -> str | None:
    """The database URL for ``layout``: ``given``, else (production only) ``DATABASE_URL``.

    None means SQLite in a temporary directory (embedded only). Production runs on
    PostgreSQL: without a PostgreSQL URL it is a ConfigError.
    """
    if layout != "production":
        return check_database_url(given) if given else None
    url = given or env.get("DATABASE_URL")
    if not url:
        raise ConfigError(
            "bench-calls --layout production: needs a PostgreSQL server; pass --database-url postgresql://... "
            "or set DATABASE_URL (the bench makes and drops a database of its own there)"
        )
    if not is_postgres(check_database_url(url)):
        raise ConfigError(f"bench-calls --layout production: runs on PostgreSQL, not {url.split(':', 1)[0]}")
    return url


async def _seeded(url: str) -> DemoOrganization:
    database = Database(url)
    try:
        await database.migrate()
        return await seed_demo(database)
    finally:
        await database.dispose()


@contextlib.asynccontextmanager
async def bench_database(url: str | None) -> AsyncIterator[BenchDatabase]:
    """A migrated database with the demo seeded, for one run (see the module doc)."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="opbx-bench-calls-") as directory:
            own = f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
            yield BenchDatabase(own, "sqlite", await _seeded(own))
        return
    if not is_postgres(check_database_url(url)):
        yield BenchDatabase(url, "sqlite", await _seeded(url))
        return
    name = f"opbx_bench_{uuid.uuid4().hex[:8]}"
    try:
        await create_database(url, name)
    except (OSError, asyncpg.PostgresError) as exc:
        raise ConfigError(f"--database-url: the PostgreSQL server does not answer ({exc})") from None
    try:
        own = on_database(url, name)
        yield BenchDatabase(own, "postgresql", await _seeded(own))
    finally:
        await drop_database(url, name)

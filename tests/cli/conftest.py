"""``opbx`` commands on a fresh database: a SQLite file and the session's PostgreSQL database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from opbx.cli import main
from tests.cli.support import Opbx
from tests.helpers.databases import PostgresForTests


async def _empty(postgres: PostgresForTests) -> None:
    database = await postgres.fresh()
    await database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def opbx(request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Opbx:
    """The ``sqlite`` variant needs no PostgreSQL; the ``postgresql`` one takes the session's database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/x.sqlite3"
        assert main(["db", "upgrade", "--database-url", url]) == 0
    else:
        postgres: PostgresForTests = request.getfixturevalue("postgres")
        asyncio.run(_empty(postgres))
        url = postgres.url
    capsys.readouterr()
    return Opbx(url, capsys)

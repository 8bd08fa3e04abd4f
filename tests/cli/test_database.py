"""``opbx db upgrade``, what the provisioning commands say of a database that is not ready, and
the default database: ``var/opbx.sqlite3`` in the working directory."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

import opbx.db.migrations
from opbx.cli import main
from opbx.db.engine import Database
from tests.cli.support import Opbx, one_line
from tests.helpers.databases import POSTGRES_URL, PostgresForTests

pytestmark = pytest.mark.integration

NO_SCHEMA = re.compile(
    r"opbx: DATABASE_URL: (?P<url>\S+) has no OpBX schema yet, this opbx needs (?P<head>\w+); run `opbx db upgrade`"
)


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(opbx.db.migrations.__file__).parent))
    config.attributes["connection"] = connection
    return config


def migrate_to(url: str, revision: str) -> None:
    async def migrate() -> None:
        database = Database(url)
        try:
            async with database.engine.connect() as connection:
                await connection.run_sync(lambda sync: command.upgrade(_alembic_config(sync), revision))
                await connection.commit()
        finally:
            await database.dispose()

    asyncio.run(migrate())


@pytest.fixture(params=["sqlite", "postgresql"])
def blank(request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Opbx]:
    """A database with no schema at all: a new SQLite file, a new PostgreSQL database."""
    if request.param == "sqlite":
        yield Opbx(f"sqlite:///{tmp_path}/blank.sqlite3", capsys)
        return
    database = PostgresForTests()
    asyncio.run(database.create())
    try:
        yield Opbx(database.url, capsys)
    finally:
        asyncio.run(database.drop())


def test_commands_on_a_database_without_the_schema_say_to_run_db_upgrade(blank: Opbx) -> None:
    for args in (
        ["org", "list"],
        [
            "user",
            "create",
            "--org",
            "1",
            "--email",
            "a@acme.example",
            "--name",
            "A",
            "--role",
            "admin",
            "--password",
            "x",
        ],
        ["did", "route", "--did", "1", "--none"],
    ):
        said = blank.refused(*args)
        if blank.url.startswith("sqlite"):  # no file yet: said so, and none is created
            path = blank.url.split(":///", 1)[1]
            assert said == f"opbx: DATABASE_URL: there is no database at {path}; run `opbx db upgrade` to create it"
            assert not Path(path).exists()
            continue
        refusal = NO_SCHEMA.fullmatch(said)
        assert refusal is not None, args
        assert refusal["url"] == blank.url
    upgraded = blank.run("db", "upgrade")
    assert (upgraded.code, upgraded.out, upgraded.err) == (0, f"{blank.url} is at the newest schema\n", "")
    created = blank.ok("org", "create", "--name", "Acme")
    again = blank.run("db", "upgrade")  # idempotent, and keeps what is there
    assert (again.code, again.out) == (0, f"{blank.url} is at the newest schema\n")
    assert blank.ok("org", "list") == [{key: value for key, value in created.items() if key != "webhook_secret"}]


def test_an_older_schema_is_named_and_db_upgrade_brings_it_up_to_date(blank: Opbx) -> None:
    migrate_to(blank.url, "0001")
    refusal = blank.refused("org", "list")
    assert re.fullmatch(
        rf"opbx: DATABASE_URL: {re.escape(blank.url)} is at schema revision 0001, this opbx needs (?!0001)\w+; "
        r"run `opbx db upgrade`",
        refusal,
    ), refusal
    assert blank.run("db", "upgrade").code == 0
    assert blank.ok("org", "list") == []


@pytest.mark.parametrize("action", [["org", "list"], ["db", "upgrade"]])
def test_an_unreachable_postgresql_is_one_line_with_the_password_masked(
    capsys: pytest.CaptureFixture[str], action: list[str]
) -> None:
    url = "postgresql://opbx:hunter2@127.0.0.1:1/opbx"
    assert main([*action, "--database-url", url]) == 2
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert line.startswith(
        "opbx: DATABASE_URL: the database at postgresql://opbx:***@127.0.0.1:1/opbx does not answer ("
    )
    assert line.endswith("); start it or fix DATABASE_URL")
    assert "hunter2" not in captured.err
    assert captured.out == ""


@pytest.mark.postgres
def test_a_postgresql_database_that_does_not_exist_is_named_with_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    name = f"opbx_absent_{uuid.uuid4().hex[:8]}"
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    assert main(["org", "list", "--database-url", url]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"opbx: DATABASE_URL: the database '{name}' does not exist on ")
    assert f"create it (createdb {name})" in line


def test_by_default_the_database_is_var_opbx_sqlite3_in_the_working_directory(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "OPBX_DATABASE_URL")}

    def opbx(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "opbx.cli", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )

    upgraded = opbx("db", "upgrade")
    assert (upgraded.returncode, upgraded.stdout, upgraded.stderr) == (
        0,
        "sqlite:///var/opbx.sqlite3 is at the newest schema\n",
        "",
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["var"]
    assert (tmp_path / "var" / "opbx.sqlite3").is_file()
    created = opbx("org", "create", "--name", "Acme")
    assert (created.returncode, created.stderr) == (0, "")
    organization = json.loads(created.stdout)
    with sqlite3.connect(tmp_path / "var" / "opbx.sqlite3") as connection:
        rows = connection.execute("SELECT id, name, webhook_secret FROM organizations").fetchall()
    assert rows == [(organization["id"], "Acme", organization["webhook_secret"])]

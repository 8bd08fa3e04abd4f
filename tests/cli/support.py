"""Running ``opbx`` in-process against one database, and reading what it printed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from opbx.cli import main
from opbx.db.engine import Database

T = TypeVar("T")

STRONG_PASSWORD = "violet kayak spreadsheet"


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def one_line(err: str) -> str:
    """The single line of a refusal, after checking it is exactly one line and no traceback."""
    assert "Traceback" not in err
    assert err.endswith("\n"), repr(err)
    assert err.count("\n") == 1, repr(err)
    return err[:-1]


def usage_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The one line argparse printed for ``opbx args`` before exiting with status 2 (no database needed)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    assert exited.value.code == 2
    assert captured.out == ""
    return one_line(captured.err)


@dataclass(frozen=True)
class Opbx:
    """``opbx ...`` on ``url``, with ``--database-url`` appended to every command."""

    url: str
    capsys: pytest.CaptureFixture[str]

    def run(self, *args: str) -> Outcome:
        self.capsys.readouterr()
        code = main([*args, "--database-url", self.url])
        captured = self.capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    def ok(self, *args: str) -> Any:
        """The JSON a successful command printed."""
        outcome = self.run(*args)
        assert (outcome.code, outcome.err) == (0, ""), outcome
        assert outcome.out.endswith("\n")
        return json.loads(outcome.out)

    def refused(self, *args: str) -> str:
        """The one line on stderr of a refused command (exit status 2, nothing on stdout)."""
        outcome = self.run(*args)
        assert (outcome.code, outcome.out) == (2, ""), outcome
        return one_line(outcome.err)

    def on_database(self, work: Callable[[Database], Awaitable[T]]) -> T:
        """Run ``work`` with a connection of our own to the same database (to look behind the command)."""

        async def run() -> T:
            database = Database(self.url)
            try:
                return await work(database)
            finally:
                await database.dispose()

        return asyncio.run(run())

    def new_org(self, name: str = "Acme") -> int:
        organization_id: int = self.ok("org", "create", "--name", name)["id"]
        return organization_id

    def new_user(self, organization_id: int, email: str, role: str = "agent") -> int:
        user_id: int = self.ok(
            "user",
            "create",
            "--org",
            str(organization_id),
            "--email",
            email,
            "--name",
            email.split("@")[0],
            "--role",
            role,
            "--password",
            STRONG_PASSWORD,
        )["id"]
        return user_id

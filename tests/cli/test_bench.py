"""``opbx bench-calls`` refuses, in one line, what it cannot run."""

from __future__ import annotations

import pytest

from opbx.cli import main
from tests.cli.support import one_line


def test_the_production_layout_without_a_database_url_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    capsys.readouterr()
    assert main(["bench-calls", "--layout", "production"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    refusal = one_line(captured.err)
    assert "--layout production" in refusal
    assert "--database-url" in refusal
    assert "DATABASE_URL" in refusal


def test_the_production_layout_on_sqlite_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["bench-calls", "--layout", "production", "--database-url", "sqlite:///bench.sqlite3"]) == 2
    captured = capsys.readouterr()
    assert "runs on PostgreSQL, not sqlite" in one_line(captured.err)

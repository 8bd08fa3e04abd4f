"""What every ``opbx`` command shares (``opbx.cli.common``): ids, the database URL, passwords
from stdin, JSON on stdout, and one-line errors."""

from __future__ import annotations

import argparse
import io
import sys

import pytest

from opbx.cli import main
from opbx.cli.common import Parser, database_url, print_json, read_password, record_id
from opbx.configuration import ConfigError
from opbx.directory.records import ExtensionRecord
from tests.cli.support import one_line, usage_error


@pytest.mark.parametrize(("text", "value"), [("1", 1), ("42", 42), ("2147483647", 2_147_483_647)])
def test_a_record_id_is_canonical_ascii_decimal(text: str, value: int) -> None:
    assert record_id(text) == value


@pytest.mark.parametrize(
    "text", ["0", "007", "-1", "+5", "1.0", "1e3", "", " 1", "1 ", "2147483648", "9" * 400, "\u0661\u0662", "x"]
)
def test_anything_else_is_not_a_record_id(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        record_id(text)
    assert str(refused.value) == f"{text[:20]!r} is not a record id (a whole number from 1 to 2147483647)"


def test_the_database_url_comes_from_the_option_then_the_environment_then_the_default() -> None:
    option = argparse.Namespace(database_url="sqlite:///option.sqlite3")
    unset = argparse.Namespace(database_url=None)
    both = {"DATABASE_URL": "postgresql://db/primary", "OPBX_DATABASE_URL": "postgresql://db/secondary"}
    assert database_url(option, both) == "sqlite:///option.sqlite3"
    assert database_url(unset, both) == "postgresql://db/primary"
    assert database_url(unset, {"OPBX_DATABASE_URL": "postgresql://db/secondary"}) == "postgresql://db/secondary"
    assert database_url(unset, {}) == "sqlite:///var/opbx.sqlite3"
    assert database_url(argparse.Namespace(), {"DATABASE_URL": ""}) == "sqlite:///var/opbx.sqlite3"
    with pytest.raises(ConfigError, match="unsupported database 'mysql'"):
        database_url(argparse.Namespace(database_url="mysql://db/name"), {})


def test_password_stdin_takes_the_first_line_without_its_line_ending(monkeypatch: pytest.MonkeyPatch) -> None:
    args = argparse.Namespace(password=None, password_stdin=True)
    monkeypatch.setattr(sys, "stdin", io.StringIO(" two  spaces \r\nnot this\n"))
    assert read_password(args) == " two  spaces "
    monkeypatch.setattr(sys, "stdin", io.StringIO("no newline at all"))
    assert read_password(args) == "no newline at all"
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert read_password(args) == ""
    assert read_password(argparse.Namespace(password="given on the line", password_stdin=False)) == (
        "given on the line"
    )


def test_records_are_printed_as_indented_json(capsys: pytest.CaptureFixture[str]) -> None:
    print_json([ExtensionRecord(id=1, number="101", organization_id=2, user_id=None)])
    assert capsys.readouterr().out == (
        '[\n  {\n    "id": 1,\n    "number": "101",\n    "organization_id": 2,\n    "user_id": null\n  }\n]\n'
    )


def test_a_parser_error_is_one_line_naming_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = Parser(prog="opbx thing")
    parser.add_argument("--count", type=int, required=True)
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["--count", "many"])
    assert exited.value.code == 2
    assert one_line(capsys.readouterr().err) == (
        "opbx thing: argument --count: invalid int value: 'many' (see opbx thing --help)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "opbx: the following arguments are required: COMMAND (see opbx --help)"),
        (["frobnicate"], "opbx: argument COMMAND: invalid choice: 'frobnicate'"),
        (["org"], "opbx org: the following arguments are required: ACTION (see opbx org --help)"),
        (["org", "list", "--colour"], "opbx: unrecognized arguments: --colour"),
    ],
)
def test_usage_errors_of_the_provisioning_commands_are_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert usage_error(capsys, *args).startswith(message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["org", "list", "--log-level", "loud"],
            "opbx: --log-level: unknown log level 'loud'; use one of debug, info, warning, error, critical",
        ),
        (
            ["org", "list", "--database-url", "mysql://db/opbx"],
            "opbx: DATABASE_URL: unsupported database 'mysql'; use sqlite:///path/to/file.sqlite3 "
            "or postgresql://user:password@host:5432/name",
        ),
        (
            ["db", "upgrade", "--database-url", "oracle://db/opbx"],
            "opbx: DATABASE_URL: unsupported database 'oracle'; use sqlite:///path/to/file.sqlite3 "
            "or postgresql://user:password@host:5432/name",
        ),
    ],
)
def test_a_bad_setting_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_line(captured.err) == message

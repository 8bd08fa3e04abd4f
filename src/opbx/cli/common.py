"""What every ``opbx`` command shares: a parser that reports in one line, the parent parsers
for logging and the database, running a coroutine, and JSON on stdout."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import msgspec
import uvloop

from opbx.configuration import StartupError, check_log_level
from opbx.db.engine import DEFAULT_DATABASE_URL, Database, check_database_url
from opbx.directory.scope import Actor, Scope, transaction
from opbx.parsing import parse_record_id

__all__ = [
    "DATABASE",
    "LOGGING",
    "Parser",
    "configure_logging",
    "database_url",
    "directory_command",
    "print_json",
    "read_password",
    "record_id",
    "run",
    "with_directory",
]

T = TypeVar("T")
Handler = Callable[[argparse.Namespace], int]
DirectoryOperation = Callable[[argparse.Namespace, Scope], Awaitable[object]]


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit status 2), not the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


LOGGING = Parser(add_help=False)
LOGGING.add_argument("--log-level", metavar="LEVEL", help="debug, info, warning, error or critical")

DATABASE = Parser(add_help=False)
DATABASE.add_argument(
    "--database-url",
    metavar="URL",
    help=f"sqlite:///path or postgresql://user:password@host/name (default: DATABASE_URL, else {DEFAULT_DATABASE_URL} "
    "in the working directory)",
)


def configure_logging(level: str | None, default: str = "info") -> None:
    """Log to stderr at ``level`` (checked: an unknown one is a ConfigError)."""
    chosen = check_log_level("--log-level", level) if level else default
    logging.basicConfig(
        level=chosen.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # One line per HTTP request of the simulator or the relay is noise next to our own.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))


def database_url(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> str:
    url: str = (
        getattr(args, "database_url", None)
        or env.get("DATABASE_URL")
        or env.get("OPBX_DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )
    return check_database_url(url)


def record_id(text: str) -> int:
    """An id option: canonical ASCII decimal within the database's range (see :mod:`opbx.parsing`)."""
    try:
        return parse_record_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def read_password(args: argparse.Namespace) -> str:
    """``--password P`` or the first line of stdin with ``--password-stdin``."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = args.password
    return password


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return uvloop.run(coroutine)


def with_directory(args: argparse.Namespace, operation: Callable[[Scope], Awaitable[T]]) -> T:
    """Run ``operation`` as the operator in one transaction on the command's database."""

    url = database_url(args)
    if url.startswith("sqlite") and ":///" in url:
        path = Path(url.split(":///", 1)[1])
        if str(path) != ":memory:" and not path.exists():  # say so rather than create an empty file
            raise StartupError(f"DATABASE_URL: there is no database at {path}; run `opbx db upgrade` to create it")

    async def run_operation() -> T:
        database = Database(url)
        try:
            await database.check_ready()
            async with transaction(database, Actor.operator(), datetime.now(UTC)) as scope:
                return await operation(scope)
        finally:
            await database.dispose()

    return run(run_operation())


def print_json(value: object) -> None:
    """A record or a list of records, as indented JSON on stdout."""
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value), indent=2).decode() + "\n")
    sys.stdout.flush()


def directory_command(operation: DirectoryOperation) -> Handler:
    """A provisioning command: run ``operation`` as the operator, print its result as JSON."""

    def handler(args: argparse.Namespace) -> int:
        configure_logging(args.log_level, default="warning")
        print_json(with_directory(args, lambda scope: operation(args, scope)))
        return 0

    return handler

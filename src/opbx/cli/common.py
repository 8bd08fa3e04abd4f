"""What every ``opbx`` command shares: a parser that reports in one line, the parent parsers
for logging and the database, running a coroutine, and JSON on stdout."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import msgspec
import uvloop

from opbx.configuration import StartupError, check_log_level
from opbx.db.engine import DEFAULT_DATABASE_URL, Database, check_database_url
from opbx.directory.scope import Actor, Scope, transaction
from opbx.logs import LOG_FORMAT_ENV, check_log_format, install_request_ids, log_handler, log_uncaught
from opbx.parsing import parse_record_id

__all__ = [
    "DATABASE",
    "LOGGING",
    "Parser",
    "chosen_log_format",
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


_chosen_format: list[str] = []
"""``--log-format`` as given to the command being parsed: its handler's ``configure_logging`` takes it."""


class _LogFormatOption(argparse.Action):
    """Stores ``--log-format`` and remembers it for :func:`configure_logging`, which every command calls."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        _chosen_format[:] = [str(values)]


LOGGING = Parser(add_help=False)
LOGGING.add_argument("--log-level", metavar="LEVEL", help="debug, info, warning, error or critical")
LOGGING.add_argument(
    "--log-format",
    metavar="FORMAT",
    action=_LogFormatOption,
    help=f"text (the default) or json: one JSON object a line on stderr (or {LOG_FORMAT_ENV})",
)

DATABASE = Parser(add_help=False)
DATABASE.add_argument(
    "--database-url",
    metavar="URL",
    help=f"sqlite:///path or postgresql://user:password@host/name (default: DATABASE_URL, else {DEFAULT_DATABASE_URL} "
    "in the working directory)",
)


def chosen_log_format(option: str | None = None, env: Mapping[str, str] = os.environ) -> str:
    """``--log-format`` (``option``, else the one the command line gave), else ``OPBX_LOG_FORMAT``, else text.

    Checked: an unknown format is a ConfigError naming where it came from.
    """
    given = option or (_chosen_format[0] if _chosen_format else None)
    if given:
        return check_log_format("--log-format", given)
    from_env = env.get(LOG_FORMAT_ENV, "")
    return check_log_format(LOG_FORMAT_ENV, from_env) if from_env.strip() else "text"


def configure_logging(
    level: str | None, default: str = "info", *, log_format: str | None = None, env: Mapping[str, str] = os.environ
) -> None:
    """Log to stderr at ``level`` in the chosen format (see :func:`chosen_log_format`).

    Both are checked: an unknown level or format is a ConfigError. Every record carries the
    id of the API request that caused it, if any (:mod:`opbx.logs`).
    """
    try:
        chosen = check_log_level("--log-level", level) if level else default
        chosen_format = chosen_log_format(log_format, env)
    finally:
        _chosen_format.clear()
    install_request_ids()
    handler = log_handler(chosen_format)
    logging.basicConfig(level=chosen.upper(), handlers=[handler])
    if chosen_format == "json" and handler in logging.getLogger().handlers:  # not when logging was set up before
        logging.captureWarnings(True)  # a warning is a JSON line too, not text on stderr
        sys.excepthook = log_uncaught
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

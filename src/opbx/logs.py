"""How every ``opbx`` process logs: text (the default) or one JSON object a line, and the id
of the request that caused a line.

The API's middleware (:mod:`opbx.api.access`) binds each request's id with
:func:`bind_request_id`; every log record created while it is bound carries it as
``request_id`` (a log-record factory adds it, so every handler sees it, whatever logger the
line comes from). The text format appends ``[request ID]`` to such lines; the JSON format
writes ``"request_id"``.

A JSON line has ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger`` and
``message``, then ``request_id`` when there is one, then the fields a caller passed with
``extra=``, then ``exception`` (the formatted traceback) when there is one. A message that
is itself a JSON object (the relay's broadcast lines) is merged in, its fields beside the
others rather than a string inside a string.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import orjson

from opbx.configuration import ConfigError

__all__ = [
    "LOG_FORMATS",
    "LOG_FORMAT_ENV",
    "JsonFormatter",
    "TextFormatter",
    "bind_request_id",
    "check_log_format",
    "current_request_id",
    "install_request_ids",
    "log_handler",
    "log_uncaught",
    "reset_request_id",
]

LOG_FORMATS = ("text", "json")
LOG_FORMAT_ENV = "OPBX_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("opbx_request_id", default=None)

_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}
"""A LogRecord's own attributes: whatever else a record has came with ``extra=``."""
_OWN_KEYS = ("time", "level", "logger")


def check_log_format(where: str, value: str) -> str:
    """The format lower-cased, or a ConfigError naming the choices."""
    chosen = value.strip().lower()
    if chosen not in LOG_FORMATS:
        raise ConfigError(f"{where}: unknown log format {value!r}; use text or json")
    return chosen


# -- the request id ------------------------------------------------------------------------


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str) -> contextvars.Token[str | None]:
    """Lines logged from now on in this context carry ``request_id`` (undo with :func:`reset_request_id`)."""
    return _request_id.set(request_id)


def reset_request_id(token: contextvars.Token[str | None]) -> None:
    _request_id.reset(token)


_installed = False


def install_request_ids() -> None:
    """Give every log record created from now on its ``request_id`` (None outside a request); idempotent."""
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()

    def with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.request_id = _request_id.get()
        return record

    logging.setLogRecordFactory(with_request_id)


# -- the formats ------------------------------------------------------------------------------


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message``, and ``[request ID]`` after the message of a request's line."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        return f"{text} [request {request_id}]" if request_id else text


def _structured(message: str) -> Mapping[str, Any] | None:
    """The message as a JSON object, when it is one."""
    if not (message.startswith("{") and message.endswith("}")):
        return None
    try:
        decoded = orjson.loads(message)
    except orjson.JSONDecodeError:
        return None
    return decoded if isinstance(decoded, dict) else None


class JsonFormatter(logging.Formatter):
    """One JSON object a line: never a newline inside (tracebacks are a string field)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        created = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        entry: dict[str, Any] = {
            "time": created.replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = _structured(message)
        if fields is None:
            entry["message"] = message
        else:
            entry.setdefault("message", fields.get("message", ""))
            entry.update((key, value) for key, value in fields.items() if key not in _OWN_KEYS)
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        try:
            return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # an integer beyond 64 bits, say: the standard library takes anything
            return json.dumps(entry, default=str, ensure_ascii=False)


def log_handler(log_format: str) -> logging.Handler:
    """A handler writing to stderr in ``log_format`` (``text`` or ``json``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def log_uncaught(
    kind: type[BaseException], value: BaseException, traceback: TracebackType | None
) -> None:  # pragma: no cover - the process is ending
    """``sys.excepthook`` of a JSON-logging process: even a crash is one JSON line."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, traceback)
        return
    logging.getLogger("opbx").critical("uncaught exception", exc_info=(kind, value, traceback))

"""Parsing what clients send as text or JSON numbers: one place for the rules every edge shares.

Ids, numbers, days and moments travel in paths, query strings, form fields, channel names,
provider bodies and command-line options. Each is accepted here only in its canonical form
and within a sane range, so ``007``, ``١٢``, ``+5``, ``1e400``, a thousand digits, the year
9999 or a call lasting a century are refused (a :class:`ValueError` naming the rule) before
they reach arithmetic or SQL. Every parser is total: any input gives a value or a ValueError.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "MAX_RECORD_ID",
    "MAX_SECONDS",
    "parse_bounded_int",
    "parse_day",
    "parse_moment",
    "parse_record_id",
    "parse_seconds",
    "parse_socket_id",
]

MAX_RECORD_ID = 2**31 - 1
"""The largest value the database's integer primary keys hold (PostgreSQL ``integer``)."""
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)
"""Days a filter may name: any call this system can hold lies between them."""
FIRST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
LAST_MOMENT = datetime(2200, 1, 1, tzinfo=UTC)
"""Moments a provider may report: a call outside them is a mistake, not a call."""
MAX_SECONDS = 10 * 24 * 3600
"""The longest duration a provider may report: ten days."""

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_SOCKET_ID = re.compile(r"[0-9]{1,20}\.[0-9]{1,20}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MILLISECONDS_ABOVE = 10**11
"""An epoch number above this is in milliseconds (10^11 seconds is the year 5138)."""


def parse_bounded_int(text: str, low: int, high: int) -> int:
    """A whole number written in canonical ASCII decimal (no sign, no leading zero), low to high."""
    if len(text) > len(str(high)) or not text.isascii() or _DECIMAL.fullmatch(text) is None:
        raise ValueError(f"{text[:20]!r} is not a whole number from {low} to {high}")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{text!r} is not a whole number from {low} to {high}")
    return value


def parse_record_id(text: str) -> int:
    """A record id: canonical ASCII decimal from 1 to :data:`MAX_RECORD_ID`."""
    try:
        return parse_bounded_int(text, 1, MAX_RECORD_ID)
    except ValueError:
        raise ValueError(f"{text[:20]!r} is not a record id (a whole number from 1 to {MAX_RECORD_ID})") from None


def parse_socket_id(text: str) -> str:
    """A Pusher socket id, ``123.456``: ASCII digits only (https://pusher.com/docs/channels/library_auth_reference/auth-signatures)."""
    if not text.isascii() or _SOCKET_ID.fullmatch(text) is None:
        raise ValueError(f"{text[:40]!r} is not a socket id like '123.456'")
    return text


def parse_day(text: str) -> date:
    """A day written ``YYYY-MM-DD``, from :data:`FIRST_DAY` to :data:`LAST_DAY`."""
    if not text.isascii() or _DAY.fullmatch(text) is None:
        raise ValueError(f"{text[:20]!r} is not a day like 2026-11-26")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a day of the calendar") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{text!r} is not a day from {FIRST_DAY} to {LAST_DAY}")
    return day


def _in_range(moment: datetime, shown: str) -> datetime:
    if not FIRST_MOMENT <= moment < LAST_MOMENT:
        raise ValueError(f"{shown} is not a time from {FIRST_MOMENT.year} to {LAST_MOMENT.year - 1}")
    return moment


def parse_moment(value: str | int | float) -> datetime:
    """A moment: an ISO 8601 string (no zone: UTC), or epoch seconds or milliseconds; UTC-aware."""
    if isinstance(value, bool):
        raise ValueError("true or false is not a time")
    if isinstance(value, int | float):
        if not math.isfinite(value) or not 0 <= value < 2**53:
            raise ValueError(f"{value!r} is not a time")
        seconds = value / 1000 if value > _MILLISECONDS_ABOVE else value
        return _in_range(datetime.fromtimestamp(seconds, UTC), repr(value))
    if len(value) > 64 or not value.isascii():
        raise ValueError(f"{value[:40]!r} is not an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not FIRST_MOMENT.date() <= moment.date() <= LAST_MOMENT.date():  # before converting: no overflow
        raise ValueError(f"{value!r} is not a time from {FIRST_MOMENT.year} to {LAST_MOMENT.year - 1}")
    return _in_range(moment.astimezone(UTC), repr(value))


def parse_seconds(value: str | int | float) -> int:
    """A duration in whole seconds (a fraction is cut), from 0 to :data:`MAX_SECONDS`."""
    if isinstance(value, bool):
        raise ValueError("true or false is not a number of seconds")
    if isinstance(value, str):
        if len(value) > 20 or not value.isascii():
            raise ValueError(f"{value[:20]!r} is not a number of seconds")
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 <= value <= MAX_SECONDS:
        raise ValueError(f"{value!r} is not a number of seconds from 0 to {MAX_SECONDS}")
    return int(value)

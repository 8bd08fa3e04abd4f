"""Parsing what clients send as text: one place for the rules every edge shares.

Ids travel as text in paths, query strings, form fields, channel names and command-line
options; only canonical ASCII decimal within the database's integer range is an id, so
``007``, ``١٢``, ``+5`` and a thousand digits are refused before they reach SQL.
"""

from __future__ import annotations

__all__ = ["MAX_RECORD_ID", "parse_record_id"]

MAX_RECORD_ID = 2**31 - 1
"""The largest value the database's integer primary keys hold (PostgreSQL ``integer``)."""


def parse_record_id(text: str) -> int:
    """A record id, or ValueError: ASCII digits, no sign, no leading zero, 1 to :data:`MAX_RECORD_ID`."""
    if not text or len(text) > 10 or not text.isascii() or not text.isdigit() or text[0] == "0":
        raise ValueError(f"{text[:20]!r} is not a record id (a whole number from 1 to {MAX_RECORD_ID})")
    value = int(text)
    if value > MAX_RECORD_ID:
        raise ValueError(f"{text!r} is not a record id (a whole number from 1 to {MAX_RECORD_ID})")
    return value

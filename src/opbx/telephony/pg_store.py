"""One webhook on PostgreSQL: two round trips, no ``BEGIN`` and no ``COMMIT``.

The read is :func:`opbx.telephony.store.read_statement`, with the call row's ``xmin`` as
its version (https://www.postgresql.org/docs/current/ddl-system-columns.html: every
transaction that changes a row writes a version with its own ``xmin``). The write is one
statement, so it commits alone and all or nothing; its data-modifying ``WITH`` queries
(https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING) run in
this order, each on the one before:

1. ``locked``: the call row, locked, if it is still the version the read saw (a call
   that exists); else nothing below happens and the caller gets :class:`Conflict`;
2. ``org``: the organization's ``seq``, taken while its secret is still the one the
   webhook was verified with (the row lock, held to the commit, hands numbers out in
   commit order);
3. the call inserted or updated, its provider record, its outbox rows, each ``seq`` also
   spliced into its payload's JSON text as its last key;
4. ``pg_notify`` when another process's relay leads (:mod:`opbx.broadcasting.leadership`),
   delivered when the statement commits.

Two webhooks that create one call: the second's insert breaks ``call_id``'s unique index,
and a body received twice at once breaks ``digest``'s; the statement fails whole and the
caller runs the webhook again, then finding the call, or the duplicate. After a
:class:`Conflict` the caller runs it again in a transaction that locks the call first
(:meth:`PgCallStore.lock`), so a call many webhooks fight over still moves forward.

Statements run on asyncpg directly (:mod:`opbx.db.postgresql`), as text built once here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal_column
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from opbx.broadcasting.leadership import CHANNEL
from opbx.db.engine import json_text
from opbx.db.models import Base, CallLog
from opbx.telephony.store import (
    CHANGEABLE,
    CallChange,
    Conflict,
    Lookup,
    Snapshot,
    read_statement,
    snapshot_of,
)

__all__ = ["PgCallStore"]

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]
_calls = Base.metadata.tables[CallLog.__tablename__]

_compiled_read = read_statement(literal_column(f"{CallLog.__tablename__}.xmin")).compile(dialect=_DIALECT)
_READ = _compiled_read.string
_READ_ORDER = tuple(_compiled_read.positiontup or ())
_LOCK = "SELECT 1 FROM call_logs WHERE call_id = $1 FOR UPDATE"


def _sql_type(name: str) -> str:
    return str(_calls.c[name].type.compile(dialect=_DIALECT))


# Every shape binds $1-$14: organization_id, secret, count (of events), call_id, the record's
# kind, digest, body and received_at, the events' ids, names, channels and payloads (arrays),
# now, notify. From $15 on: the call's row id and version (unless inserted), then its values.
_CALL_VALUES = ", ".join(f"${n}::{_sql_type(name)}" for n, name in enumerate(CHANGEABLE, start=15))
_TAKE_SEQ = """org AS (
    UPDATE organizations SET event_seq = event_seq + $3::integer
    WHERE id = $1::integer AND webhook_secret = $2::varchar {guard}
    RETURNING event_seq
)"""
_GUARD = "AND EXISTS (SELECT FROM locked)"
_LOCKED = """locked AS (
    SELECT id FROM call_logs WHERE id = $15::integer AND xmin = $16::xid FOR UPDATE
)"""
# S608: these statements are built once, from this module's constants; every value is bound.
_INSERT = f"""new_call AS (
    INSERT INTO call_logs (call_id, organization_id, {", ".join(CHANGEABLE)})
    SELECT $4::varchar, $1::integer, {_CALL_VALUES} FROM org
    RETURNING id
)"""  # noqa: S608
_ASSIGNMENTS = ", ".join(f"{name} = ${n}::{_sql_type(name)}" for n, name in enumerate(CHANGEABLE, start=17))
_UPDATE = f"""changed_call AS (
    UPDATE call_logs SET {_ASSIGNMENTS}
    WHERE id = $15::integer AND EXISTS (SELECT FROM org)
)"""  # noqa: S608


def _written(call_log_id: str, call_source: str) -> str:
    """The record, the outbox rows, the notification, and what the statement returns."""
    return f"""record AS (
    INSERT INTO provider_records (call_log_id, kind, digest, body, received_at)
    SELECT {call_log_id}, $5::varchar, $6::varchar, $7::json, $8::timestamptz FROM {call_source}
), outbox AS (
    INSERT INTO outbox_events
        (event_id, organization_id, call_id, seq, name, channels, payload, created_at, attempts, next_attempt_at)
    SELECT e.event_id, $1::integer, $4::varchar, org.event_seq - $3::integer + e.n, e.name, e.channels::json,
           (left(e.payload, -1) || ',"seq":' || (org.event_seq - $3::integer + e.n) || '}}')::json,
           $13::timestamptz, 0, $13::timestamptz
    FROM org, unnest($9::text[], $10::text[], $11::text[], $12::text[])
         WITH ORDINALITY AS e (event_id, name, channels, payload, n)
    RETURNING id, seq
), notified AS (
    SELECT pg_notify('{CHANNEL}', '') FROM org WHERE $14::boolean
)
SELECT org.event_seq, ARRAY(SELECT id FROM outbox ORDER BY seq), (SELECT count(*) FROM notified) FROM org"""  # noqa: S608


def _with(*queries: str) -> str:
    return "WITH " + ",\n".join(queries)


_KNOWN_CALL = _written(call_log_id="$15::integer", call_source="org")
_WRITE = {
    "insert": _with(_TAKE_SEQ.format(guard=""), _INSERT, _written(call_log_id="new_call.id", call_source="new_call")),
    "update": _with(_LOCKED, _TAKE_SEQ.format(guard=_GUARD), _UPDATE, _KNOWN_CALL),
    "none": _with(_LOCKED, _TAKE_SEQ.format(guard=_GUARD), _KNOWN_CALL),
}
"""The write, by :attr:`CallChange.write_call`."""


class PgCallStore:
    """One webhook's read and write on an asyncpg connection."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def lock(self, call_id: str) -> None:
        """In a transaction: lock the call's row (if it exists) until the commit."""
        await self._connection.execute(_LOCK, call_id)

    async def read(self, lookup: Lookup) -> Snapshot:
        row = await self._connection.fetchrow(_READ, *(getattr(lookup, name) for name in _READ_ORDER))
        return snapshot_of(tuple(row) if row is not None else None)

    async def save(self, change: CallChange, *, notify: bool) -> list[tuple[int, int]]:
        """Write the change in one statement; return each outbox row's ``(id, seq)``, in order.

        ``notify``: wake the leading relay of another process when it commits.
        Raises :class:`Conflict` when the call or the secret changed since the read.
        """
        call, record, events = change.call, change.record, change.events
        arguments: list[Any] = [
            call.organization_id,
            change.secret,
            len(events),
            call.call_id,
            record["kind"],
            record["digest"],
            json_text(record["body"]),
            record["received_at"],
            [event.event_id for event in events],
            [event.name for event in events],
            [json_text(event.channels) for event in events],
            [json_text(event.payload) for event in events],
            change.now,
            notify,
        ]
        if change.write_call != "insert":
            arguments += [call.id, change.version]
        if change.write_call != "none":
            arguments += [getattr(call, name) for name in CHANGEABLE]
        row = await self._connection.fetchrow(_WRITE[change.write_call], *arguments)
        if row is None:
            raise Conflict(f"call {call.call_id} or its organization's secret changed since it was read")
        last, ids = row[0], row[1]
        first = last - len(events) + 1
        return [(row_id, first + n) for n, row_id in enumerate(ids)]

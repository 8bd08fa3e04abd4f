"""The call log's side of one webhook: one read, then one write.

A webhook reads everything it may need in one statement (:class:`Snapshot`: its
organization's secret, the call, whether this body was received already, the number's
DID, the extensions it may name), the state machine decides in memory
(:mod:`opbx.telephony.service`), and what it changed is written at once
(:class:`CallChange`). Two implementations:

* :class:`SqlCallStore`, here: SQLAlchemy Core on a synchronous connection inside the
  writer's transaction (:meth:`opbx.db.engine.Database.write`). SQLite serializes its
  writers (``BEGIN IMMEDIATE``), so nothing changes between the read and the write; the
  write is one statement per table, which on SQLite costs no round trip.
* :class:`opbx.telephony.pg_store.PgCallStore`: PostgreSQL, straight on asyncpg, where each
  statement is a round trip: the read, then one guarded statement that writes everything
  and commits by itself.

Why Core and not the ORM: a webhook touches a handful of rows it reads once and writes
once, which is what the ORM's identity map and unit of work are not for; measured, they
were most of a webhook's CPU (``docs/benchmarks.md``, issue 11). The statements are built
once, here, so each execution only binds its values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, bindparam, func, insert, literal, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from opbx.db.models import Base, CallLog, Did, Extension, Organization, OutboxEvent, ProviderRecord, User

__all__ = [
    "Call",
    "CallChange",
    "Conflict",
    "DidRow",
    "EventRow",
    "ExtensionRow",
    "Lookup",
    "SecretChanged",
    "Snapshot",
    "SqlCallStore",
    "read_statement",
    "snapshot_of",
]


class SecretChanged(Exception):
    """The organization's webhook secret is no longer the one the webhook was verified with."""

    def __init__(self, organization_id: int) -> None:
        super().__init__(organization_id)
        self.organization_id = organization_id


class Conflict(Exception):
    """The call changed between a webhook's read and its write (or its secret did): nothing was written."""


@dataclass(slots=True, kw_only=True)
class Call:
    """One ``call_logs`` row, as a webhook reads and changes it."""

    id: int = 0
    """0 until the row is inserted."""
    call_id: str
    organization_id: int
    direction: str
    from_number: str
    to_number: str
    did_id: int | None
    extension_id: int | None
    status: str
    initiated_at: datetime
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    duration: int | None = None
    recording_url: str | None = None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DidRow:
    id: int
    organization_id: int
    phone_number: str
    extension_id: int | None


@dataclass(frozen=True, slots=True)
class ExtensionRow:
    """An extension and the user it belongs to, if any."""

    id: int
    number: str
    user_id: int | None
    user_name: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Lookup:
    """What one webhook reads, by key."""

    organization_id: int
    """The organization whose secret signed it."""
    call_id: str
    digest: str
    """Of the kind and body: a body received already is a duplicate."""
    number: str | None
    """The number called, whose DID routes a call not seen yet."""
    extension: str | None
    """The number of the extension the report says answered."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """Everything one webhook may need, as one statement read it."""

    secret: str | None
    """The organization's webhook secret now; None when it no longer exists."""
    call: Call | None
    version: int
    """Which version of the call row was read (PostgreSQL's ``xmin``; 0 on SQLite)."""
    received: bool
    """This very body was received already (its digest is on record)."""
    did: DidRow | None
    """The DID of :attr:`Lookup.number`, for a call not seen yet."""
    answering: ExtensionRow | None
    """The extension :attr:`Lookup.extension` names, in the organization."""
    extension: ExtensionRow | None
    """The call's extension (a new call's: its DID's)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRow:
    """One ``outbox_events`` row before the organization's ``seq`` is taken for it."""

    event_id: str
    name: str
    channels: list[str]
    payload: dict[str, Any]
    """The event's payload; ``seq`` is added to it when the row is written."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallChange:
    """Everything one webhook writes, in one go."""

    call: Call
    write_call: Literal["insert", "update", "none"]
    """``insert`` a call first seen, ``update`` one changed, leave it be (``none``)."""
    version: int
    """The version of the call row the change was decided on (:attr:`Snapshot.version`)."""
    secret: str
    """The secret the webhook was verified with: written only while it is still the organization's."""
    record: dict[str, Any]
    """The ``provider_records`` row but its ``call_log_id`` (column name to value)."""
    events: list[EventRow]
    now: datetime


_tables = Base.metadata.tables
_calls = _tables[CallLog.__tablename__]
_organizations = _tables[Organization.__tablename__]
_extensions = _tables[Extension.__tablename__]
_users = _tables[User.__tablename__]
_records = _tables[ProviderRecord.__tablename__]
_dids = _tables[Did.__tablename__]
_outbox = _tables[OutboxEvent.__tablename__]
CALL_COLUMNS = tuple(field.name for field in fields(Call))
CHANGEABLE = tuple(name for name in CALL_COLUMNS if name not in ("id", "call_id", "organization_id"))


def read_statement(version: ColumnElement[Any]) -> Select[Any]:
    """The one statement a webhook reads with (binds the fields of :class:`Lookup`).

    One row, from the organization: its secret, then each of the rest outer-joined, so a
    call, DID or extension that does not exist reads as NULLs. ``version`` is the column
    that tells versions of the call row apart.
    """
    answering, answering_user = _extensions.alias("answering"), _users.alias("answering_user")
    extension, extension_user = _extensions.alias("extension"), _users.alias("extension_user")
    received = select(_records.c.id).where(_records.c.digest == bindparam("digest")).exists()
    joined = (
        _organizations.outerjoin(_calls, _calls.c.call_id == bindparam("call_id"))
        # The DID routes only a call not seen yet; a known call keeps its own extension.
        .outerjoin(_dids, and_(_calls.c.id.is_(None), _dids.c.phone_number == bindparam("number")))
        .outerjoin(
            answering,
            and_(answering.c.organization_id == _organizations.c.id, answering.c.number == bindparam("extension")),
        )
        .outerjoin(answering_user, answering_user.c.id == answering.c.user_id)
        .outerjoin(extension, extension.c.id == func.coalesce(_calls.c.extension_id, _dids.c.extension_id))
        .outerjoin(extension_user, extension_user.c.id == extension.c.user_id)
    )
    columns = (
        _organizations.c.webhook_secret,
        *(_calls.c[name] for name in CALL_COLUMNS),
        version.label("version"),
        received.label("received"),
        _dids.c.id, _dids.c.organization_id, _dids.c.phone_number, _dids.c.extension_id,
        answering.c.id, answering.c.number, answering.c.user_id, answering_user.c.name,
        extension.c.id, extension.c.number, extension.c.user_id, extension_user.c.name,
    )  # fmt: skip
    return select(*columns).select_from(joined).where(_organizations.c.id == bindparam("organization_id"))


_LOOKUP_FIELDS = tuple(field.name for field in fields(Lookup))


def lookup_parameters(lookup: Lookup) -> dict[str, Any]:
    """The values :func:`read_statement` binds, by name."""
    return {name: getattr(lookup, name) for name in _LOOKUP_FIELDS}


def snapshot_of(row: Sequence[Any] | None) -> Snapshot:
    """The :class:`Snapshot` in a row of :func:`read_statement` (None: no such organization)."""
    if row is None:
        return Snapshot(secret=None, call=None, version=0, received=False, did=None, answering=None, extension=None)
    columns = len(CALL_COLUMNS)
    call_values = row[1 : 1 + columns]
    rest = row[1 + columns :]
    call = Call(**dict(zip(CALL_COLUMNS, call_values, strict=True))) if call_values[0] is not None else None
    return Snapshot(
        secret=row[0],
        call=call,
        version=rest[0] or 0,
        received=bool(rest[1]),
        did=DidRow(*rest[2:6]) if rest[2] is not None else None,
        answering=ExtensionRow(*rest[6:10]) if rest[6] is not None else None,
        extension=ExtensionRow(*rest[10:14]) if rest[10] is not None else None,
    )


def outbox_rows(change: CallChange, first_seq: int) -> list[dict[str, Any]]:
    """The change's ``outbox_events`` rows, their ``seq`` counting from ``first_seq`` (also in each payload)."""
    call, now = change.call, change.now
    return [
        {
            "event_id": event.event_id,
            "organization_id": call.organization_id,
            "call_id": call.call_id,
            "seq": seq,
            "name": event.name,
            "channels": event.channels,
            "payload": {**event.payload, "seq": seq},
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for seq, event in enumerate(change.events, start=first_seq)
    ]


_SECRETS = select(_organizations.c.id, _organizations.c.webhook_secret)
_SECRET_OF = _SECRETS.where(_organizations.c.id == bindparam("organization_id"))
_READ = read_statement(literal(0))
_INSERT_CALL = insert(_calls).returning(_calls.c.id)
_UPDATE_CALL = update(_calls).where(_calls.c.id == bindparam("row_id"))
_INSERT_RECORD = insert(_records)
_INSERT_OUTBOX = insert(_outbox).returning(_outbox.c.id)
_INSERT_OUTBOX_ROWS = insert(_outbox).returning(_outbox.c.id, sort_by_parameter_order=True)
# The row lock this update takes is held until commit, so an organization's numbers are
# handed out in commit order (SQLite serializes its writers anyway).
_NEXT_SEQ = (
    update(_organizations)
    .where(_organizations.c.id == bindparam("organization_id"), _organizations.c.webhook_secret == bindparam("secret"))
    .values(event_seq=_organizations.c.event_seq + bindparam("count"))
    .returning(_organizations.c.event_seq)
)


def read_secrets(connection: Connection, organization_id: int | None) -> list[tuple[int, str]]:
    """``(id, webhook secret)`` of that organization, or of all when None."""
    if organization_id is None:
        rows = connection.execute(_SECRETS)
    else:
        rows = connection.execute(_SECRET_OF, {"organization_id": organization_id})
    return [(row[0], row[1]) for row in rows]


class SqlCallStore:
    """One webhook's read and write on a Core connection, inside the writer's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def read(self, lookup: Lookup) -> Snapshot:
        return snapshot_of(self._connection.execute(_READ, lookup_parameters(lookup)).first())

    def save(self, change: CallChange) -> list[tuple[int, int]]:
        """Write the change; return each outbox row's ``(id, seq)``, in order.

        Raises :class:`Conflict` when the secret is no longer the organization's.
        """
        connection, call = self._connection, change.call
        count = len(change.events)
        last = 0
        if count:  # else the read, in this same transaction, confirmed the secret
            parameters = {"organization_id": call.organization_id, "count": count, "secret": change.secret}
            taken = connection.execute(_NEXT_SEQ, parameters).scalar()
            if taken is None:
                raise Conflict("the organization's secret changed")
            last = taken
        if change.write_call == "insert":
            values = {name: getattr(call, name) for name in CALL_COLUMNS if name != "id"}
            call.id = connection.execute(_INSERT_CALL, values).scalar_one()
        elif change.write_call == "update":
            connection.execute(_UPDATE_CALL, {"row_id": call.id, **{name: getattr(call, name) for name in CHANGEABLE}})
        connection.execute(_INSERT_RECORD, {"call_log_id": call.id, **change.record})
        rows = outbox_rows(change, last - count + 1)
        if count == 1:
            ids = [connection.execute(_INSERT_OUTBOX, rows[0]).scalar_one()]
        elif count:
            ids = list(connection.execute(_INSERT_OUTBOX_ROWS, rows).scalars())
        else:
            ids = []
        return [(row_id, row["seq"]) for row_id, row in zip(ids, rows, strict=True)]

"""The call log's write side: one webhook's unit of work, in SQL Core statements.

:class:`CallStore` is what the service needs; :class:`SqlCallStore` implements it on one
synchronous Core connection inside one transaction (:meth:`opbx.db.engine.Database.write`).
On PostgreSQL the call row is locked (``SELECT ... FOR UPDATE``) so two webhooks for one
call apply one after the other; on SQLite the ``BEGIN IMMEDIATE`` of
:mod:`opbx.db.engine` serializes writers.

Why Core and not the ORM: a webhook touches a handful of rows it reads once and writes
once, which is what the ORM's identity map and unit of work are not for; measured, they
were most of a webhook's CPU (``docs/benchmarks.md``, issue 11). The statements are built
once, here, so each execution only binds its values.

On PostgreSQL, what a webhook writes (the call, its provider record, its outbox rows) is
one statement, the later inserts as data-modifying ``WITH`` queries
(https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING): one
round trip where there were three or four, each a few tenths of a millisecond that the
organization's ``seq`` row lock is held. SQLite runs them one by one, in the same
transaction, where a statement costs no round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy import CTE, Insert, Table, bindparam, insert, select, union_all, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter

from opbx.db.models import Base, CallLog, Did, Extension, Organization, OutboxEvent, ProviderRecord, User

__all__ = ["Call", "CallChange", "CallStore", "DidRow", "ExtensionRow", "SecretChanged", "SqlCallStore"]


class SecretChanged(Exception):
    """The organization's webhook secret is no longer the one the webhook was verified with."""

    def __init__(self, organization_id: int) -> None:
        super().__init__(organization_id)
        self.organization_id = organization_id


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


@dataclass(frozen=True, slots=True, kw_only=True)
class CallChange:
    """Everything one webhook writes, in one go."""

    call: Call
    write_call: Literal["insert", "update", "none"]
    """``insert`` a call first seen, ``update`` one changed, leave it be (``none``)."""
    record: dict[str, Any]
    """The ``provider_records`` row but its ``call_log_id`` (column name to value)."""
    outbox: list[dict[str, Any]]
    """The ``outbox_events`` rows (column name to value), their ``seq`` taken already."""


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


class CallStore(Protocol):
    """Reads and writes of one webhook's transaction."""

    def secrets(self, organization_id: int | None) -> list[tuple[int, str]]:
        """``(id, webhook secret)`` of that organization, or of all when None."""
        ...

    def confirm_secret(self, organization_id: int, secret: str) -> None:
        """Raise :class:`SecretChanged` unless ``secret`` is still the organization's."""
        ...

    def call_for_update(self, call_id: str, digest: str) -> tuple[Call | None, bool]:
        """The call, locked until commit, and whether a body with ``digest`` was received already."""
        ...

    def did_by_number(self, phone_number: str) -> DidRow | None: ...

    def extension(self, extension_id: int) -> ExtensionRow | None: ...

    def extension_by_number(self, organization_id: int, number: str) -> ExtensionRow | None: ...

    def save(self, change: CallChange) -> list[int]:
        """Write what one webhook changed; return the ids of its outbox rows, in order."""
        ...

    def next_seq(self, organization_id: int, count: int, secret: str) -> int:
        """Reserve ``count`` sequence numbers of the organization's events; return the last.

        Confirms ``secret`` on the way, as :meth:`confirm_secret` does (same statement).
        """
        ...


_tables = Base.metadata.tables
_calls = _tables[CallLog.__tablename__]
_organizations = _tables[Organization.__tablename__]
_extensions = _tables[Extension.__tablename__]
_users = _tables[User.__tablename__]
_records = _tables[ProviderRecord.__tablename__]
_dids = _tables[Did.__tablename__]
_CALL_COLUMNS = tuple(field.name for field in fields(Call))
_CHANGEABLE = tuple(name for name in _CALL_COLUMNS if name not in ("id", "call_id", "organization_id"))

_SECRETS = select(_organizations.c.id, _organizations.c.webhook_secret)
_SECRET_OF = _SECRETS.where(_organizations.c.id == bindparam("organization_id"))
_SECRET_IS = select(_organizations.c.id).where(
    _organizations.c.id == bindparam("organization_id"), _organizations.c.webhook_secret == bindparam("secret")
)
# Whether the body was received already: a column of the call's row, not a round trip of its own.
_RECEIVED = select(_records.c.id).where(_records.c.digest == bindparam("digest")).exists()
_CALL = (
    select(*(_calls.c[name] for name in _CALL_COLUMNS), _RECEIVED.label("received"))
    .where(_calls.c.call_id == bindparam("call_id"))
    .with_for_update()
)
_DID = select(_dids.c.id, _dids.c.organization_id, _dids.c.phone_number, _dids.c.extension_id).where(
    _dids.c.phone_number == bindparam("phone_number")
)
_EXTENSION = select(_extensions.c.id, _extensions.c.number, _extensions.c.user_id, _users.c.name).outerjoin(
    _users, _users.c.id == _extensions.c.user_id
)
_EXTENSION_BY_ID = _EXTENSION.where(_extensions.c.id == bindparam("extension_id"))
_EXTENSION_BY_NUMBER = _EXTENSION.where(
    _extensions.c.organization_id == bindparam("organization_id"), _extensions.c.number == bindparam("number")
)
_INSERT_CALL = insert(_calls).returning(_calls.c.id)
_RECORD_COLUMNS = ("kind", "digest", "body", "received_at")
_OUTBOX_COLUMNS = (
    "event_id",
    "organization_id",
    "call_id",
    "seq",
    "name",
    "channels",
    "payload",
    "created_at",
    "attempts",
    "next_attempt_at",
)
_UPDATE_CALL = update(_calls).where(_calls.c.id == bindparam("row_id"))
_INSERT_RECORD = insert(_records)
_outbox = _tables[OutboxEvent.__tablename__]
_INSERT_OUTBOX = insert(_outbox).returning(_outbox.c.id)
_INSERT_OUTBOX_ROWS = insert(_outbox).returning(_outbox.c.id, sort_by_parameter_order=True)
"""Several rows (a report that walks several states): "insertmanyvalues", dearer than one row's insert."""
# The row lock this update takes is held until commit, so an organization's numbers are
# handed out in commit order (SQLite serializes its writers anyway).
_NEXT_SEQ = (
    update(_organizations)
    .where(_organizations.c.id == bindparam("organization_id"), _organizations.c.webhook_secret == bindparam("secret"))
    .values(event_seq=_organizations.c.event_seq + bindparam("count"))
    .returning(_organizations.c.event_seq)
)


def _bound(table: Table, name: str, key: str) -> BindParameter[Any]:
    return bindparam(key, type_=table.c[name].type)


def _one_statement(write_call: str, events: int) -> Insert:
    """PostgreSQL: the call, its record and ``events`` outbox rows written by one statement.

    Binds ``call_<column>`` (and ``row_id`` for an update), ``record_<column>`` and
    ``<column>_<n>`` for the n-th outbox row. Returns the outbox rows' ``id`` and ``seq``.
    """
    call_values = {name: _bound(_calls, name, f"call_{name}") for name in _CALL_COLUMNS if name != "id"}
    record = {name: _bound(_records, name, f"record_{name}") for name in _RECORD_COLUMNS}
    ctes: list[CTE] = []
    if write_call == "insert":
        new_call = insert(_calls).values(call_values).returning(_calls.c.id).cte("new_call")
        ctes.append(new_call)
        record_insert = insert(_records).from_select(["call_log_id", *record], select(new_call.c.id, *record.values()))
    else:
        if write_call == "update":
            changed = {name: call_values[name] for name in _CHANGEABLE}
            ctes.append(update(_calls).where(_calls.c.id == bindparam("row_id")).values(changed).cte("changed_call"))
        record_insert = insert(_records).values(call_log_id=bindparam("row_id"), **record)
    if not events:
        return record_insert.add_cte(*ctes) if ctes else record_insert
    ctes.append(record_insert.cte("record"))
    # Rows as SELECTs, not a multi-row VALUES: SQLAlchemy caches the compiled form of this, not of that.
    rows = [select(*(_bound(_outbox, name, f"{name}_{n}") for name in _OUTBOX_COLUMNS)) for n in range(events)]
    values = rows[0] if events == 1 else union_all(*rows)
    return insert(_outbox).from_select(_OUTBOX_COLUMNS, values).returning(_outbox.c.id, _outbox.c.seq).add_cte(*ctes)


_ONE_STATEMENT: dict[tuple[str, int], Insert] = {}
""":func:`_one_statement` by shape, built when first needed."""


class SqlCallStore:
    """:class:`CallStore` on one Core connection, inside its transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._in_one_statement = connection.dialect.name == "postgresql"

    def secrets(self, organization_id: int | None) -> list[tuple[int, str]]:
        if organization_id is None:
            rows = self._connection.execute(_SECRETS)
        else:
            rows = self._connection.execute(_SECRET_OF, {"organization_id": organization_id})
        return [(row[0], row[1]) for row in rows]

    def confirm_secret(self, organization_id: int, secret: str) -> None:
        parameters = {"organization_id": organization_id, "secret": secret}
        if self._connection.execute(_SECRET_IS, parameters).first() is None:
            raise SecretChanged(organization_id)

    def call_for_update(self, call_id: str, digest: str) -> tuple[Call | None, bool]:
        row = self._connection.execute(_CALL, {"call_id": call_id, "digest": digest}).first()
        if row is None:
            return None, False
        *values, received = row
        return Call(**dict(zip(_CALL_COLUMNS, values, strict=True))), bool(received)

    def did_by_number(self, phone_number: str) -> DidRow | None:
        row = self._connection.execute(_DID, {"phone_number": phone_number}).first()
        return DidRow(*row) if row is not None else None

    def extension(self, extension_id: int) -> ExtensionRow | None:
        row = self._connection.execute(_EXTENSION_BY_ID, {"extension_id": extension_id}).first()
        return ExtensionRow(*row) if row is not None else None

    def extension_by_number(self, organization_id: int, number: str) -> ExtensionRow | None:
        parameters = {"organization_id": organization_id, "number": number}
        row = self._connection.execute(_EXTENSION_BY_NUMBER, parameters).first()
        return ExtensionRow(*row) if row is not None else None

    def save(self, change: CallChange) -> list[int]:
        if self._in_one_statement:
            return self._save_in_one_statement(change)
        call = change.call
        if change.write_call == "insert":
            values = {name: getattr(call, name) for name in _CALL_COLUMNS if name != "id"}
            call.id = self._connection.execute(_INSERT_CALL, values).scalar_one()
        elif change.write_call == "update":
            self._connection.execute(
                _UPDATE_CALL, {"row_id": call.id, **{name: getattr(call, name) for name in _CHANGEABLE}}
            )
        self._connection.execute(_INSERT_RECORD, {"call_log_id": call.id, **change.record})
        if len(change.outbox) == 1:
            return [self._connection.execute(_INSERT_OUTBOX, change.outbox[0]).scalar_one()]
        if not change.outbox:
            return []
        return list(self._connection.execute(_INSERT_OUTBOX_ROWS, change.outbox).scalars())

    def _save_in_one_statement(self, change: CallChange) -> list[int]:
        shape = (change.write_call, len(change.outbox))
        statement = _ONE_STATEMENT.get(shape)
        if statement is None:
            statement = _ONE_STATEMENT[shape] = _one_statement(*shape)
        call = change.call
        parameters: dict[str, Any] = {f"call_{name}": getattr(call, name) for name in _CALL_COLUMNS if name != "id"}
        parameters["row_id"] = call.id
        parameters.update((f"record_{name}", value) for name, value in change.record.items())
        for n, row in enumerate(change.outbox):
            parameters.update((f"{name}_{n}", row[name]) for name in _OUTBOX_COLUMNS)
        if not change.outbox:
            self._connection.execute(statement, parameters)
            return []
        ids = {seq: row_id for row_id, seq in self._connection.execute(statement, parameters)}
        return [ids[row["seq"]] for row in change.outbox]

    def next_seq(self, organization_id: int, count: int, secret: str) -> int:
        parameters = {"organization_id": organization_id, "count": count, "secret": secret}
        last: int | None = self._connection.execute(_NEXT_SEQ, parameters).scalar()
        if last is None:
            raise SecretChanged(organization_id)
        return last


_: type[CallStore] = SqlCallStore

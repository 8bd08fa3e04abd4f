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
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from opbx.db.models import Base, CallLog, Did, Extension, Organization, OutboxEvent, ProviderRecord, User

__all__ = ["Call", "CallStore", "DidRow", "ExtensionRow", "SecretChanged", "SqlCallStore"]


class SecretChanged(Exception):
    """The organization's webhook secret is no longer the one the webhook was verified with."""


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


class CallStore(Protocol):
    """Reads and writes of one webhook's transaction."""

    def secrets(self, organization_id: int | None) -> list[tuple[int, str]]:
        """``(id, webhook secret)`` of that organization, or of all when None."""
        ...

    def confirm_secret(self, organization_id: int, secret: str) -> None:
        """Raise :class:`SecretChanged` unless ``secret`` is still the organization's."""
        ...

    def already_received(self, digest: str) -> bool: ...

    def call_for_update(self, call_id: str) -> Call | None: ...

    def did_by_number(self, phone_number: str) -> DidRow | None: ...

    def extension(self, extension_id: int) -> ExtensionRow | None: ...

    def extension_by_number(self, organization_id: int, number: str) -> ExtensionRow | None: ...

    def add_call(self, call: Call) -> None:
        """Insert the call and set its ``id``."""
        ...

    def save_call(self, call: Call) -> None: ...

    def add_record(self, call: Call, kind: str, digest: str, body: dict[str, Any], now: datetime) -> None: ...

    def add_outbox(self, events: list[dict[str, Any]]) -> list[int]:
        """Insert ``outbox_events`` rows (column name to value); return their ids, in order."""
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
_RECEIVED = select(_records.c.id).where(_records.c.digest == bindparam("digest"))
_CALL = (
    select(*(_calls.c[name] for name in _CALL_COLUMNS))
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
_UPDATE_CALL = update(_calls).where(_calls.c.id == bindparam("row_id"))
_INSERT_RECORD = insert(_records)
_outbox = _tables[OutboxEvent.__tablename__]
_INSERT_OUTBOX = insert(_outbox).returning(_outbox.c.id, sort_by_parameter_order=True)
# The row lock this update takes is held until commit, so an organization's numbers are
# handed out in commit order (SQLite serializes its writers anyway).
_NEXT_SEQ = (
    update(_organizations)
    .where(_organizations.c.id == bindparam("organization_id"), _organizations.c.webhook_secret == bindparam("secret"))
    .values(event_seq=_organizations.c.event_seq + bindparam("count"))
    .returning(_organizations.c.event_seq)
)


class SqlCallStore:
    """:class:`CallStore` on one Core connection, inside its transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

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

    def already_received(self, digest: str) -> bool:
        return self._connection.execute(_RECEIVED, {"digest": digest}).first() is not None

    def call_for_update(self, call_id: str) -> Call | None:
        row = self._connection.execute(_CALL, {"call_id": call_id}).first()
        return Call(**row._mapping) if row is not None else None

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

    def add_call(self, call: Call) -> None:
        values = {name: getattr(call, name) for name in _CALL_COLUMNS if name != "id"}
        call.id = self._connection.execute(_INSERT_CALL, values).scalar_one()

    def save_call(self, call: Call) -> None:
        self._connection.execute(
            _UPDATE_CALL, {"row_id": call.id, **{name: getattr(call, name) for name in _CHANGEABLE}}
        )

    def add_record(self, call: Call, kind: str, digest: str, body: dict[str, Any], now: datetime) -> None:
        values = {"call_log_id": call.id, "kind": kind, "digest": digest, "body": body, "received_at": now}
        self._connection.execute(_INSERT_RECORD, values)

    def add_outbox(self, events: list[dict[str, Any]]) -> list[int]:
        if not events:
            return []
        return list(self._connection.execute(_INSERT_OUTBOX, events).scalars())

    def next_seq(self, organization_id: int, count: int, secret: str) -> int:
        parameters = {"organization_id": organization_id, "count": count, "secret": secret}
        last: int | None = self._connection.execute(_NEXT_SEQ, parameters).scalar()
        if last is None:
            raise SecretChanged(organization_id)
        return last


_: type[CallStore] = SqlCallStore

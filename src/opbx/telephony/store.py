"""The call log's write side: one unit of work per webhook, over SQL.

:class:`CallStore` is what the service needs; :class:`SqlCallStore` implements it on one
SQLAlchemy session (one transaction). On PostgreSQL the call row is locked
(``SELECT ... FOR UPDATE``) so two webhooks for one call apply one after the other; on
SQLite the ``BEGIN IMMEDIATE`` of :mod:`opbx.db.engine` serializes writers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from opbx.db.models import CallLog, Did, Extension, Organization, OutboxEvent, ProviderRecord, User

__all__ = ["CallStore", "SqlCallStore"]


class CallStore(Protocol):
    """Reads and writes of one webhook's transaction."""

    async def already_received(self, digest: str) -> bool: ...

    async def call_for_update(self, call_id: str) -> CallLog | None: ...

    async def did_by_number(self, phone_number: str) -> Did | None: ...

    async def extension(self, extension_id: int) -> Extension | None: ...

    async def extension_by_number(self, organization_id: int, number: str) -> Extension | None: ...

    async def user(self, user_id: int) -> User | None: ...

    async def add_call(self, call: CallLog) -> None: ...

    def add_record(self, call: CallLog, kind: str, digest: str, body: dict[str, Any], now: datetime) -> None: ...

    def add_outbox(self, event: OutboxEvent) -> None: ...

    async def next_seq(self, organization_id: int, count: int) -> int:
        """Reserve ``count`` sequence numbers of the organization's events; return the last."""
        ...


class SqlCallStore:
    """:class:`CallStore` on one SQLAlchemy session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def already_received(self, digest: str) -> bool:
        found = await self._session.execute(select(ProviderRecord.id).where(ProviderRecord.digest == digest))
        return found.first() is not None

    async def call_for_update(self, call_id: str) -> CallLog | None:
        statement = select(CallLog).where(CallLog.call_id == call_id).with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def did_by_number(self, phone_number: str) -> Did | None:
        return (await self._session.execute(select(Did).where(Did.phone_number == phone_number))).scalar_one_or_none()

    async def extension(self, extension_id: int) -> Extension | None:
        return await self._session.get(Extension, extension_id)

    async def extension_by_number(self, organization_id: int, number: str) -> Extension | None:
        statement = select(Extension).where(Extension.organization_id == organization_id, Extension.number == number)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def user(self, user_id: int) -> User | None:
        return await self._session.get(User, user_id)

    async def add_call(self, call: CallLog) -> None:
        self._session.add(call)
        await self._session.flush()  # assigns the id the records refer to

    def add_record(self, call: CallLog, kind: str, digest: str, body: dict[str, Any], now: datetime) -> None:
        self._session.add(ProviderRecord(call_log_id=call.id, kind=kind, digest=digest, body=body, received_at=now))

    def add_outbox(self, event: OutboxEvent) -> None:
        self._session.add(event)

    async def next_seq(self, organization_id: int, count: int) -> int:
        # The row lock this update takes is held until commit, so an organization's numbers are
        # handed out in commit order (SQLite serializes its writers anyway).
        statement = (
            update(Organization)
            .where(Organization.id == organization_id)
            .values(event_seq=Organization.event_seq + count)
            .returning(Organization.event_seq)
        )
        last: int = (await self._session.execute(statement)).scalar_one()
        return last


_: type[CallStore] = SqlCallStore

"""Who is changing the directory, what they may touch, and the record of what they did.

An :class:`Actor` is either the operator (the ``opbx`` command line, over every
organization) or a signed-in user (over their own organization, by role). A :class:`Scope`
is one transaction on behalf of an actor: its lookups find only what the actor may see
(another organization's id is "not found", never "forbidden", so ids leak nothing), and
:meth:`Scope.audit` writes every change with who made it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opbx.db.engine import Database
from opbx.db.models import AuditEntry, Did, Extension, Organization, User
from opbx.directory.errors import Conflict, Forbidden, Invalid, NotFound
from opbx.directory.rules import Role

__all__ = ["Actor", "Scope", "transaction"]

log = logging.getLogger("opbx.directory")


@dataclass(frozen=True, slots=True)
class Actor:
    label: str
    """Who, as the audit log shows it."""
    user_id: int | None = None
    organization_id: int | None = None
    """None: the operator, who administers every organization."""
    role: Role | None = None

    @classmethod
    def operator(cls) -> Actor:
        return cls(label="opbx command line")

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(
            label=f"{user.email} (user {user.id})",
            user_id=user.id,
            organization_id=user.organization_id,
            role=Role(user.role),
        )

    @property
    def is_operator(self) -> bool:
        return self.organization_id is None

    @property
    def is_admin(self) -> bool:
        return self.is_operator or self.role is Role.ADMIN

    @property
    def reads_everyone(self) -> bool:
        """Admins and supervisors see every user; agents see themselves."""
        return self.is_operator or self.role in (Role.ADMIN, Role.SUPERVISOR)


@dataclass(slots=True)
class Scope:
    """One transaction of directory changes on behalf of ``actor``."""

    session: AsyncSession
    actor: Actor
    now: datetime

    def require_admin(self, what: str = "change the organization's directory") -> None:
        if not self.actor.is_admin:
            raise Forbidden(f"only an admin may {what}")

    def _not_found(self, what: str, ident: int) -> NotFound:
        suffix = "" if self.actor.is_operator else " in your organization"
        return NotFound(f"no {what} {ident}{suffix}")

    def _visible(self, organization_id: int) -> bool:
        return self.actor.is_operator or organization_id == self.actor.organization_id

    def _same_organization(self, what: str, ident: int, found: int, expected: int | None) -> None:
        if expected is not None and found != expected:
            raise Invalid(f"{what} {ident} belongs to organization {found}, not {expected}")

    async def organization(self, organization_id: int | None = None) -> Organization:
        """The organization named (the operator) or the actor's own (a user)."""
        wanted = organization_id if organization_id is not None else self.actor.organization_id
        if wanted is None:
            raise Invalid("name the organization (--org ID)")
        organization = await self.session.get(Organization, wanted)
        if organization is None or not self._visible(organization.id):
            raise NotFound(f"no organization {wanted}")
        return organization

    async def user(self, user_id: int, organization_id: int | None = None) -> User:
        user = await self.session.get(User, user_id)
        if user is None or not self._visible(user.organization_id):
            raise self._not_found("user", user_id)
        self._same_organization("user", user_id, user.organization_id, organization_id)
        return user

    async def extension(self, extension_id: int, organization_id: int | None = None) -> Extension:
        extension = await self.session.get(Extension, extension_id)
        if extension is None or not self._visible(extension.organization_id):
            raise self._not_found("extension", extension_id)
        self._same_organization("extension", extension_id, extension.organization_id, organization_id)
        return extension

    async def did(self, did_id: int) -> Did:
        did = await self.session.get(Did, did_id)
        if did is None or not self._visible(did.organization_id):
            raise self._not_found("number", did_id)
        return did

    async def flush(self, what: str) -> None:
        """Write the pending changes now; a unique key another transaction took meanwhile is a Conflict."""
        try:
            await self.session.flush()
        except IntegrityError:
            raise Conflict(f"{what} was taken by a concurrent change; try again") from None

    def audit(self, organization_id: int, action: str, target_type: str, target_id: int, **details: Any) -> None:
        """Record a change (in the same transaction as the change) and log it."""
        self.session.add(
            AuditEntry(
                organization_id=organization_id,
                actor_user_id=self.actor.user_id,
                actor=self.actor.label,
                action=action,
                target_type=target_type,
                target_id=target_id,
                details=details,
                at=self.now,
            )
        )
        shown = " ".join(f"{key}={value}" for key, value in details.items())
        log.info(
            "directory: %s did %s on %s %d of organization %d %s",
            self.actor.label,
            action,
            target_type,
            target_id,
            organization_id,
            shown,
        )


@asynccontextmanager
async def transaction(database: Database, actor: Actor, now: datetime) -> AsyncIterator[Scope]:
    """A :class:`Scope` over a new transaction: committed when the block ends, rolled back on an error."""
    async with database.session() as session, session.begin():
        yield Scope(session, actor, now)

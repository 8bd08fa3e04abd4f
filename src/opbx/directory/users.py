"""Users: created, changed, disabled by admins (or the operator); agents and supervisors
change their own name and password.

A disabled user cannot sign in and every token they hold is revoked at once. An
organization always keeps one active admin: the last one can be neither disabled nor demoted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from msgspec import UNSET, UnsetType
from sqlalchemy import select
from sqlalchemy import update as sql_update

from opbx.accounts.passwords import hash_password, verify_password
from opbx.db.models import ApiToken, User
from opbx.directory.errors import Conflict, Forbidden
from opbx.directory.records import UserRecord, user_record
from opbx.directory.rules import Role, check_email, check_name, check_password, check_role
from opbx.directory.scope import Scope

__all__ = ["UserChanges", "create", "disable", "enable", "get", "list_users", "set_password", "update"]


@dataclass(frozen=True, slots=True)
class UserChanges:
    """What to change; UNSET fields stay as they are."""

    name: str | UnsetType = UNSET
    email: str | UnsetType = UNSET
    role: str | UnsetType = UNSET
    password: str | UnsetType = UNSET
    current_password: str | UnsetType = UNSET
    """Needed when users other than admins change their own password."""


async def _email_is_free(scope: Scope, email: str) -> None:
    if await scope.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with the email {email} already exists")


async def create(
    scope: Scope, organization_id: int | None, *, email: str, name: str, role: str, password: str
) -> UserRecord:
    scope.require_admin()
    organization = await scope.organization(organization_id)
    email = check_email(email)
    user_role = check_role(role)
    check_password(password, email)
    await _email_is_free(scope, email)
    user = User(
        organization_id=organization.id,
        email=email,
        name=check_name(name),
        role=user_role.value,
        password_hash=await asyncio.to_thread(hash_password, password),
        created_at=scope.now,
    )
    scope.session.add(user)
    await scope.flush(f"the email {email}")
    scope.audit(organization.id, "user.create", "user", user.id, email=email, role=user.role)
    return user_record(user)


async def list_users(scope: Scope, organization_id: int | None = None) -> list[UserRecord]:
    """Every user of the organization, or only the caller when they are an agent."""
    organization = await scope.organization(organization_id)
    query = select(User).where(User.organization_id == organization.id).order_by(User.id)
    if not scope.actor.reads_everyone:
        query = query.where(User.id == scope.actor.user_id)
    return [user_record(user) for user in await scope.session.scalars(query)]


async def get(scope: Scope, user_id: int) -> UserRecord:
    user = await scope.user(user_id)
    if not scope.actor.reads_everyone and user.id != scope.actor.user_id:
        raise Forbidden("agents see only their own account")
    return user_record(user)


async def _keep_an_admin(scope: Scope, user: User) -> None:
    """Refuse to disable or demote the organization's last active admin."""
    if user.role != Role.ADMIN or user.disabled_at is not None:
        return
    # FOR UPDATE locks the organization's admins (PostgreSQL), so two admins demoting each other
    # at once are serialized and the second sees the first's change; SQLite serializes writers anyway.
    admins = await scope.session.scalars(
        select(User.id)
        .where(
            User.organization_id == user.organization_id,
            User.role == Role.ADMIN.value,
            User.disabled_at.is_(None),
        )
        .with_for_update()
    )
    if not [admin for admin in admins if admin != user.id]:
        raise Conflict(f"user {user.id} is the organization's last active admin; make another user admin first")


async def _revoke_tokens(scope: Scope, user: User) -> None:
    await scope.session.execute(
        sql_update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=scope.now)
    )


async def _check_self_service(scope: Scope, user: User, changes: UserChanges) -> None:
    """Users other than admins change only their own name and password; anyone changing their
    own password proves the current one (a stolen token alone cannot lock the owner out)."""
    own = user.id == scope.actor.user_id
    if not scope.actor.is_admin:
        if not own:
            raise Forbidden("you may change only your own account")
        if not isinstance(changes.email, UnsetType) or not isinstance(changes.role, UnsetType):
            raise Forbidden("only an admin may change an email address or a role")
    if own and not isinstance(changes.password, UnsetType):
        current = changes.current_password
        if isinstance(current, UnsetType) or not await asyncio.to_thread(verify_password, current, user.password_hash):
            raise Forbidden("give your current password (current_password) to set a new one")


async def update(scope: Scope, user_id: int, changes: UserChanges) -> UserRecord:
    user = await scope.user(user_id)
    await _check_self_service(scope, user, changes)
    changed: list[str] = []
    if not isinstance(changes.name, UnsetType):
        name = check_name(changes.name)
        if name != user.name:
            user.name = name
            changed.append("name")
    if not isinstance(changes.email, UnsetType):
        email = check_email(changes.email)
        if email != user.email:
            await _email_is_free(scope, email)
            user.email = email
            changed.append("email")
    if not isinstance(changes.role, UnsetType):
        role = check_role(changes.role)
        if role.value != user.role:
            await _keep_an_admin(scope, user)
            user.role = role.value
            changed.append("role")
    if not isinstance(changes.password, UnsetType):
        check_password(changes.password, user.email)
        user.password_hash = await asyncio.to_thread(hash_password, changes.password)
        changed.append("password")
        if user.id != scope.actor.user_id:  # a reset by an admin signs the user out everywhere
            await _revoke_tokens(scope, user)
    await scope.flush(f"the email {user.email}")
    if changed:
        scope.audit(user.organization_id, "user.update", "user", user.id, fields=changed, role=user.role)
    return user_record(user)


async def set_password(scope: Scope, user_id: int, password: str) -> UserRecord:
    """An admin's (or the operator's) reset: the new password, and every old session signed out."""
    scope.require_admin()
    user = await scope.user(user_id)
    check_password(password, user.email)
    user.password_hash = await asyncio.to_thread(hash_password, password)
    await _revoke_tokens(scope, user)
    scope.audit(user.organization_id, "user.set_password", "user", user.id)
    return user_record(user)


async def disable(scope: Scope, user_id: int) -> UserRecord:
    scope.require_admin()
    user = await scope.user(user_id)
    if user.id == scope.actor.user_id:
        raise Conflict("you cannot disable your own account")
    if user.disabled_at is None:
        await _keep_an_admin(scope, user)
        user.disabled_at = scope.now
        scope.audit(user.organization_id, "user.disable", "user", user.id, email=user.email)
    await _revoke_tokens(scope, user)
    return user_record(user)


async def enable(scope: Scope, user_id: int) -> UserRecord:
    scope.require_admin()
    user = await scope.user(user_id)
    if user.disabled_at is not None:
        user.disabled_at = None
        scope.audit(user.organization_id, "user.enable", "user", user.id, email=user.email)
    return user_record(user)

"""A small world of organizations, users, extensions and numbers, written to a real database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from opbx.accounts.passwords import hash_password
from opbx.db.engine import Database
from opbx.db.models import Did, Extension, Organization, User

PASSWORD = "correct horse battery staple"
_HASH = hash_password(PASSWORD)  # scrypt is slow on purpose: hash once for every user


@dataclass(frozen=True)
class Org:
    id: int
    secret: str
    user_ids: tuple[int, ...]
    emails: tuple[str, ...]
    extension_ids: tuple[int, ...]
    extension_numbers: tuple[str, ...]
    did_ids: tuple[int, ...]
    did_numbers: tuple[str, ...]


@dataclass(frozen=True)
class World:
    acme: Org
    globex: Org


async def _org(database: Database, name: str, prefix: str) -> Org:
    now = datetime.now(UTC)
    async with database.session() as session, session.begin():
        organization = Organization(name=name, webhook_secret=f"{prefix}-webhook-secret", created_at=now)
        session.add(organization)
        await session.flush()
        users = [
            User(
                organization_id=organization.id,
                name=f"{name} {role.title()}",
                email=f"{role}@{prefix}.example",
                role=role,
                password_hash=_HASH,
                created_at=now,
            )
            for role in ("admin", "agent")
        ]
        session.add_all(users)
        await session.flush()
        extensions = [
            Extension(organization_id=organization.id, number=number, user_id=user.id)
            for number, user in zip(("101", "102"), users, strict=True)
        ]
        session.add_all(extensions)
        await session.flush()
        base = "1555" if prefix == "acme" else "1666"
        dids = [
            Did(organization_id=organization.id, phone_number=f"+{base}0001000", extension_id=extensions[0].id),
            Did(organization_id=organization.id, phone_number=f"+{base}0002000", extension_id=None),
        ]
        session.add_all(dids)
        await session.flush()
        return Org(
            id=organization.id,
            secret=organization.webhook_secret,
            user_ids=tuple(user.id for user in users),
            emails=tuple(user.email for user in users),
            extension_ids=tuple(extension.id for extension in extensions),
            extension_numbers=tuple(extension.number for extension in extensions),
            did_ids=tuple(did.id for did in dids),
            did_numbers=tuple(did.phone_number for did in dids),
        )


async def build_world(database: Database) -> World:
    return World(acme=await _org(database, "Acme", "acme"), globex=await _org(database, "Globex", "globex"))

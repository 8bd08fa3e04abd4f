"""What the directory's tests share: a fixed clock, actors for the world's people, the audit
log and the tokens, read straight from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
from sqlalchemy import func, select

from opbx.accounts.passwords import hash_password
from opbx.accounts.tokens import issue_token, resolve_token
from opbx.db.engine import Database
from opbx.db.models import AuditEntry, CallLog, User
from opbx.directory.scope import Actor
from tests.helpers.world import PASSWORD, World

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
OPERATOR = Actor.operator()
NO_SUCH_ID = 999_999
STRONG_PASSWORD = "violet kayak spreadsheet"

_HASH = hash_password(PASSWORD)  # one scrypt for every user the tests add straight to the database


@dataclass(frozen=True)
class People:
    """The world (Acme and Globex, each with an admin and an agent) plus an Acme supervisor."""

    world: World
    admin: Actor
    supervisor: Actor
    agent: Actor
    globex_admin: Actor

    @property
    def acme_admin_id(self) -> int:
        return self.world.acme.user_ids[0]

    @property
    def acme_agent_id(self) -> int:
        return self.world.acme.user_ids[1]

    @property
    def supervisor_id(self) -> int:
        assert self.supervisor.user_id is not None
        return self.supervisor.user_id


async def actor_for(database: Database, user_id: int) -> Actor:
    async with database.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return Actor.of(user)


async def add_user(database: Database, organization_id: int, email: str, role: str) -> int:
    """A user written straight to the database (no scrypt per user), password :data:`PASSWORD`."""
    async with database.session() as session, session.begin():
        user = User(
            organization_id=organization_id,
            name=email.split("@")[0].title(),
            email=email,
            role=role,
            password_hash=_HASH,
            created_at=NOW,
        )
        session.add(user)
        await session.flush()
        return user.id


async def load_user(database: Database, user_id: int) -> User:
    async with database.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user


async def audit_entries(database: Database) -> list[AuditEntry]:
    async with database.session() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def audit_text(entries: list[AuditEntry]) -> str:
    """Everything the audit log keeps, as one string to search for what must not be there."""
    return msgspec.json.encode(
        [[entry.actor, entry.action, entry.target_type, entry.target_id, entry.details] for entry in entries]
    ).decode()


async def count(database: Database, model: type[object]) -> int:
    async with database.session() as session:
        total = await session.scalar(select(func.count()).select_from(model))
        assert total is not None
        return total


async def issue(database: Database, user_id: int) -> str:
    async with database.session() as session, session.begin():
        user = await session.get(User, user_id)
        assert user is not None
        token, _ = await issue_token(session, user, NOW)
        return token


async def token_owner(database: Database, token: str) -> int | None:
    """The id of the user a token signs in, or None when it is revoked, expired or theirs is disabled."""
    async with database.session() as session:
        found = await resolve_token(session, token, NOW)
        return None if found is None else found.user.id


async def add_call(
    database: Database, organization_id: int, *, extension_id: int | None = None, did_id: int | None = None
) -> None:
    async with database.session() as session, session.begin():
        session.add(
            CallLog(
                call_id=f"call-{extension_id}-{did_id}",
                organization_id=organization_id,
                direction="inbound",
                from_number="+15550199999",
                to_number="+15550100100",
                did_id=did_id,
                extension_id=extension_id,
                status="completed",
                initiated_at=NOW,
                answered_at=NOW,
                ended_at=NOW,
                duration=0,
                updated_at=NOW,
            )
        )

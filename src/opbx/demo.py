"""The demo organization ``make run`` starts with: users with roles, extensions and numbers.

Seeding is idempotent: an existing demo organization is reused as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from opbx.accounts.passwords import hash_password
from opbx.db.engine import Database
from opbx.db.models import Did, Extension, Organization, User

__all__ = ["DEMO_PASSWORD", "DemoOrganization", "seed_demo"]

DEMO_NAME = "Demo Telecom"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the published demo sign-in
_PEOPLE = (
    ("Ada Admin", "admin@demo.opbx", "admin", "101"),
    ("Sam Supervisor", "supervisor@demo.opbx", "supervisor", "102"),
    ("Alex Agent", "alex@demo.opbx", "agent", "103"),
    ("Blair Agent", "blair@demo.opbx", "agent", "104"),
    ("Casey Agent", "casey@demo.opbx", "agent", "105"),
)
_NUMBERS = ("+15550100100", "+15550100200", "+15550100300")
"""The demo's DIDs: the first rings the front desk (extension 101), the others a queue."""


@dataclass(frozen=True, slots=True)
class DemoOrganization:
    id: int
    webhook_secret: str
    dids: tuple[str, ...]
    extensions: tuple[str, ...]
    emails: tuple[str, ...]


async def seed_demo(database: Database, *, webhook_secret: str = "demo-webhook-secret") -> DemoOrganization:  # noqa: S107
    """Create the demo organization unless it exists; return what the simulator needs."""
    now = datetime.now(UTC)
    async with database.session() as session, session.begin():
        organization = (
            await session.execute(select(Organization).where(Organization.name == DEMO_NAME))
        ).scalar_one_or_none()
        if organization is None:
            organization = Organization(name=DEMO_NAME, webhook_secret=webhook_secret, created_at=now)
            session.add(organization)
            await session.flush()
            password_hash = hash_password(DEMO_PASSWORD)
            extensions = []
            for name, email, role, number in _PEOPLE:
                user = User(
                    organization_id=organization.id,
                    name=name,
                    email=email,
                    role=role,
                    password_hash=password_hash,
                    created_at=now,
                )
                session.add(user)
                await session.flush()
                extension = Extension(organization_id=organization.id, number=number, user_id=user.id)
                session.add(extension)
                extensions.append(extension)
            await session.flush()
            for index, phone_number in enumerate(_NUMBERS):
                routed = extensions[0].id if index == 0 else None
                session.add(Did(organization_id=organization.id, phone_number=phone_number, extension_id=routed))
        dids = (await session.execute(select(Did.phone_number).where(Did.organization_id == organization.id))).scalars()
        numbers = (
            await session.execute(select(Extension.number).where(Extension.organization_id == organization.id))
        ).scalars()
        return DemoOrganization(
            id=organization.id,
            webhook_secret=organization.webhook_secret,
            dids=tuple(sorted(dids)),
            extensions=tuple(sorted(numbers)),
            emails=tuple(email for _, email, _, _ in _PEOPLE),
        )

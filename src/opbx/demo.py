"""The demo organization ``make run`` starts with: users with roles, extensions and numbers.

Seeding is idempotent: an existing demo organization is reused as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from opbx.db.engine import Database
from opbx.db.models import Organization
from opbx.directory import numbers, organizations, users
from opbx.directory.scope import Actor, transaction

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
_SEEDER = Actor(label="opbx serve --demo")


@dataclass(frozen=True, slots=True)
class DemoOrganization:
    id: int
    webhook_secret: str
    dids: tuple[str, ...]
    extensions: tuple[str, ...]
    emails: tuple[str, ...]


async def _create(database: Database, webhook_secret: str) -> int:
    """The organization, its people with their extensions, and its numbers, as an operator would."""
    async with transaction(database, _SEEDER, datetime.now(UTC)) as scope:
        organization = await organizations.create(scope, DEMO_NAME, webhook_secret)
        extension_ids = []
        for name, email, role, number in _PEOPLE:
            user = await users.create(scope, organization.id, email=email, name=name, role=role, password=DEMO_PASSWORD)
            extension = await numbers.create_extension(scope, organization.id, number, user.id)
            extension_ids.append(extension.id)
        for index, phone_number in enumerate(_NUMBERS):
            await numbers.create_did(scope, organization.id, phone_number, extension_ids[0] if index == 0 else None)
        return organization.id


async def seed_demo(database: Database, *, webhook_secret: str = "demo-webhook-secret") -> DemoOrganization:  # noqa: S107
    """Create the demo organization unless it exists; return what the simulator needs."""
    async with database.reader() as session:
        organization_id = await session.scalar(select(Organization.id).where(Organization.name == DEMO_NAME))
    if organization_id is None:
        organization_id = await _create(database, webhook_secret)
    async with transaction(database, _SEEDER, datetime.now(UTC)) as scope:
        plan = await organizations.number_plan(scope, organization_id)
    return DemoOrganization(
        id=plan.organization_id,
        webhook_secret=plan.webhook_secret,
        dids=plan.dids,
        extensions=plan.extensions,
        emails=tuple(email for _, email, _, _ in _PEOPLE),
    )

"""Organizations: created and listed by the operator, administered by their admins."""

from __future__ import annotations

import msgspec
import pytest

from opbx.db.engine import Database
from opbx.db.models import AuditEntry, Organization
from opbx.directory import organizations
from opbx.directory.errors import Forbidden, Invalid, NotFound
from opbx.directory.records import OrganizationWithSecret
from opbx.directory.rules import check_webhook_secret
from opbx.directory.scope import transaction
from tests.directory.support import NO_SUCH_ID, NOW, OPERATOR, People, audit_entries, count

pytestmark = pytest.mark.integration

PATHS = {
    "call-initiated": "/webhooks/cloudonix/call-initiated?org={id}",
    "call-status": "/webhooks/cloudonix/call-status?org={id}",
    "cdr": "/webhooks/cloudonix/cdr?org={id}",
}


async def stored_secret(database: Database, organization_id: int) -> str:
    async with database.session() as session:
        organization = await session.get(Organization, organization_id)
        assert organization is not None
        return organization.webhook_secret


async def test_the_operator_creates_an_organization_with_a_strong_generated_secret(database: Database) -> None:
    async with transaction(database, OPERATOR, NOW) as scope:
        first = await organizations.create(scope, "  Initech  ")
        second = await organizations.create(scope, "Umbrella")
        given = await organizations.create(scope, "Hooli", "provider-console-secret-42")
    assert msgspec.to_builtins(first) == {
        "id": first.id,
        "name": "Initech",
        "created_at": "2027-03-01T12:00:00.000Z",
        "webhook_paths": {kind: path.format(id=first.id) for kind, path in PATHS.items()},
        "webhook_secret": first.webhook_secret,
    }
    assert len(first.webhook_secret) >= 43
    assert check_webhook_secret(first.webhook_secret) == first.webhook_secret
    assert first.webhook_secret != second.webhook_secret
    assert await stored_secret(database, first.id) == first.webhook_secret
    assert given.webhook_secret == "provider-console-secret-42"
    assert await stored_secret(database, given.id) == "provider-console-secret-42"
    [entry, _, _] = await audit_entries(database)
    assert (entry.organization_id, entry.actor, entry.actor_user_id) == (first.id, "opbx command line", None)
    assert (entry.action, entry.target_type, entry.target_id) == ("organization.create", "organization", first.id)
    assert entry.details == {"name": "Initech"}


async def test_only_the_operator_creates_organizations_and_only_with_a_good_name_and_secret(
    database: Database, people: People
) -> None:
    for actor in (people.admin, people.supervisor, people.agent):
        async with transaction(database, actor, NOW) as scope:
            with pytest.raises(Forbidden) as forbidden:
                await organizations.create(scope, "Initech")
        assert forbidden.value.message == "organizations are created by the operator (opbx org create)"
    secret_rule = "a webhook secret must be 16 to 200 printable ASCII characters without spaces"
    for name, secret, message in (
        ("Initech", "too-short", secret_rule),
        ("Initech", "has a space in it ok", secret_rule),
        ("   ", None, "name must be 1 to 200 printable characters"),
        ("x" * 201, None, "name must be 1 to 200 printable characters"),
    ):
        async with transaction(database, OPERATOR, NOW) as scope:
            with pytest.raises(Invalid) as refused:
                await organizations.create(scope, name, secret)
        assert refused.value.message == message
    assert await count(database, Organization) == 2  # Acme and Globex of the world
    assert await count(database, AuditEntry) == 0


async def test_listings_never_show_a_webhook_secret_and_users_see_only_their_organization(
    database: Database, people: People
) -> None:
    async with transaction(database, OPERATOR, NOW) as scope:
        everyone = await organizations.list_all(scope)
    assert [record.name for record in everyone] == ["Acme", "Globex"]
    listed = msgspec.json.encode(everyone).decode()
    assert "webhook_secret" not in listed
    assert people.world.acme.secret not in listed
    for actor in (people.admin, people.supervisor, people.agent):
        async with transaction(database, actor, NOW) as scope:
            own = await organizations.list_all(scope)
            one = await organizations.get(scope)
        assert [record.id for record in own] == [people.world.acme.id]
        assert one == own[0]
        assert not isinstance(one, OrganizationWithSecret)


async def test_rotating_the_secret_replaces_it_at_once_and_audits_without_it(
    database: Database, people: People
) -> None:
    acme = people.world.acme
    async with transaction(database, OPERATOR, NOW) as scope:
        by_operator = await organizations.rotate_secret(scope, acme.id)
    async with transaction(database, people.admin, NOW) as scope:
        by_admin = await organizations.rotate_secret(scope)
    assert by_operator.id == by_admin.id == acme.id
    assert len({acme.secret, by_operator.webhook_secret, by_admin.webhook_secret}) == 3
    assert await stored_secret(database, acme.id) == by_admin.webhook_secret
    assert await stored_secret(database, people.world.globex.id) == people.world.globex.secret
    entries = await audit_entries(database)
    assert [(entry.action, entry.actor_user_id, entry.details) for entry in entries] == [
        ("organization.rotate_secret", None, {}),
        ("organization.rotate_secret", acme.user_ids[0], {}),
    ]


async def test_supervisors_and_agents_cannot_rotate_and_admins_cannot_reach_another_organization(
    database: Database, people: People
) -> None:
    for actor in (people.supervisor, people.agent):
        async with transaction(database, actor, NOW) as scope:
            with pytest.raises(Forbidden):
                await organizations.rotate_secret(scope)
    globex = people.world.globex
    async with transaction(database, people.admin, NOW) as scope:
        with pytest.raises(NotFound) as refused:
            await organizations.rotate_secret(scope, globex.id)
    assert refused.value.message == f"no organization {globex.id}"
    async with transaction(database, OPERATOR, NOW) as scope:
        with pytest.raises(NotFound) as unknown:
            await organizations.rotate_secret(scope, NO_SUCH_ID)
    assert unknown.value.message == f"no organization {NO_SUCH_ID}"
    assert await stored_secret(database, people.world.acme.id) == people.world.acme.secret
    assert await stored_secret(database, globex.id) == globex.secret


async def test_an_admin_renames_their_organization_and_reads_its_audit_log_newest_first(
    database: Database, people: People
) -> None:
    async with transaction(database, people.admin, NOW) as scope:
        renamed = await organizations.rename(scope, " Acme Corp ")
    assert (renamed.id, renamed.name) == (people.world.acme.id, "Acme Corp")
    [entry] = await audit_entries(database)
    assert (entry.action, entry.details) == ("organization.rename", {"before": "Acme", "after": "Acme Corp"})
    async with transaction(database, people.supervisor, NOW) as scope:
        with pytest.raises(Forbidden):
            await organizations.rename(scope, "Supervised")
        assert (await organizations.get(scope)).name == "Acme Corp"
    async with transaction(database, people.admin, NOW) as scope:
        await organizations.rename(scope, "One")
        await organizations.rename(scope, "Two")
    async with transaction(database, people.globex_admin, NOW) as scope:
        await organizations.rename(scope, "Elsewhere")
    async with transaction(database, people.admin, NOW) as scope:
        log = await organizations.audit_log(scope)
        older = await organizations.audit_log(scope, before=log[0].id)
    assert [entry.details["after"] for entry in log] == ["Two", "One", "Acme Corp"]
    assert [entry.details["after"] for entry in older] == ["One", "Acme Corp"]
    assert log[0].actor == f"admin@acme.example (user {people.acme_admin_id})"
    assert log[0].at == "2027-03-01T12:00:00.000Z"
    for actor in (people.supervisor, people.agent):
        async with transaction(database, actor, NOW) as scope:
            with pytest.raises(Forbidden):
                await organizations.audit_log(scope)


async def test_a_number_plan_lists_the_secret_numbers_and_extensions(database: Database, people: People) -> None:
    async with transaction(database, OPERATOR, NOW) as scope:
        plans = await organizations.number_plans(scope)
    assert [(plan.organization_id, plan.webhook_secret, plan.dids, plan.extensions) for plan in plans] == [
        (people.world.acme.id, "acme-webhook-secret", ("+15550001000", "+15550002000"), ("101", "102")),
        (people.world.globex.id, "globex-webhook-secret", ("+16660001000", "+16660002000"), ("101", "102")),
    ]
    async with transaction(database, people.agent, NOW) as scope:
        assert [plan.organization_id for plan in await organizations.number_plans(scope)] == [people.world.acme.id]

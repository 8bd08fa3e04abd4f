"""Actors, what a scope lets them see, transactions and the audit trail (``opbx.directory.scope``)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from opbx.db.engine import Database
from opbx.db.models import AuditEntry, Organization, User
from opbx.directory import numbers, organizations, users
from opbx.directory.errors import Conflict, Forbidden, Invalid, NotFound
from opbx.directory.rules import Role
from opbx.directory.scope import Actor, transaction
from tests.directory.support import NO_SUCH_ID, NOW, OPERATOR, STRONG_PASSWORD, People, audit_entries, audit_text, count

pytestmark = pytest.mark.integration


def test_the_operator_administers_every_organization() -> None:
    assert OPERATOR.label == "opbx command line"
    assert (OPERATOR.user_id, OPERATOR.organization_id, OPERATOR.role) == (None, None, None)
    assert OPERATOR.is_operator
    assert OPERATOR.is_admin
    assert OPERATOR.reads_everyone


@pytest.mark.parametrize(
    ("role", "is_admin", "reads_everyone"),
    [(Role.ADMIN, True, True), (Role.SUPERVISOR, False, True), (Role.AGENT, False, False)],
)
def test_a_user_acts_within_their_organization_by_role(role: Role, is_admin: bool, reads_everyone: bool) -> None:
    user = User(id=7, organization_id=3, email="pat@acme.example", role=role.value)
    actor = Actor.of(user)
    assert actor == Actor(label="pat@acme.example (user 7)", user_id=7, organization_id=3, role=role)
    assert not actor.is_operator
    assert actor.is_admin is is_admin
    assert actor.reads_everyone is reads_everyone


async def test_a_transaction_commits_when_the_block_ends_and_a_refusal_rolls_all_of_it_back(
    database: Database, people: People
) -> None:
    async with transaction(database, OPERATOR, NOW) as scope:
        created = await organizations.create(scope, "Initech")
    async with database.session() as session:
        organization = await session.get(Organization, created.id)
        assert organization is not None
        assert (organization.name, organization.created_at) == ("Initech", NOW)
    before = (await count(database, Organization), await count(database, AuditEntry))
    assert before == (3, 1)

    async def create_an_organization_and_a_duplicate_user() -> None:
        async with transaction(database, OPERATOR, NOW) as scope:
            await organizations.create(scope, "Umbrella")
            await users.create(
                scope,
                people.world.acme.id,
                email="admin@acme.example",
                name="Twin",
                role="agent",
                password=STRONG_PASSWORD,
            )

    with pytest.raises(Conflict, match=r"a user with the email admin@acme\.example already exists"):
        await create_an_organization_and_a_duplicate_user()
    assert (await count(database, Organization), await count(database, AuditEntry)) == before


async def test_only_admins_change_the_directory_and_only_the_operator_names_the_organization(
    database: Database, people: People
) -> None:
    for actor in (people.supervisor, people.agent):
        async with transaction(database, actor, NOW) as scope:
            with pytest.raises(Forbidden) as refused:
                scope.require_admin()
            assert refused.value.message == "only an admin may change the organization's directory"
    for actor in (OPERATOR, people.admin):
        async with transaction(database, actor, NOW) as scope:
            scope.require_admin()
    async with transaction(database, OPERATOR, NOW) as scope:
        with pytest.raises(Invalid, match=r"name the organization \(--org ID\)"):
            await scope.organization()
        assert (await scope.organization(people.world.globex.id)).name == "Globex"
    for actor in (people.admin, people.supervisor, people.agent):
        async with transaction(database, actor, NOW) as scope:
            assert (await scope.organization()).id == people.world.acme.id


async def test_another_organizations_records_are_not_found_exactly_like_missing_ones(
    database: Database, people: People
) -> None:
    globex = people.world.globex
    for actor in (people.admin, people.supervisor, people.agent):
        async with transaction(database, actor, NOW) as scope:
            for ident in (globex.id, NO_SUCH_ID):
                with pytest.raises(NotFound) as refused:
                    await scope.organization(ident)
                assert refused.value.message == f"no organization {ident}"
            for ident in (globex.user_ids[0], NO_SUCH_ID):
                with pytest.raises(NotFound) as refused:
                    await scope.user(ident)
                assert refused.value.message == f"no user {ident} in your organization"
            for ident in (globex.extension_ids[0], NO_SUCH_ID):
                with pytest.raises(NotFound) as refused:
                    await scope.extension(ident)
                assert refused.value.message == f"no extension {ident} in your organization"
            for ident in (globex.did_ids[0], NO_SUCH_ID):
                with pytest.raises(NotFound) as refused:
                    await scope.did(ident)
                assert refused.value.message == f"no number {ident} in your organization"
        async with transaction(database, actor, NOW) as scope:  # their own are found
            assert (await scope.user(people.world.acme.user_ids[0])).email == "admin@acme.example"
            assert (await scope.extension(people.world.acme.extension_ids[0])).number == "101"
            assert (await scope.did(people.world.acme.did_ids[0])).phone_number == "+15550001000"


async def test_the_operator_sees_every_organization_and_is_told_where_a_record_belongs(
    database: Database, people: People
) -> None:
    acme, globex = people.world.acme, people.world.globex
    async with transaction(database, OPERATOR, NOW) as scope:
        assert (await scope.user(globex.user_ids[0])).email == "admin@globex.example"
        with pytest.raises(NotFound) as refused:
            await scope.user(NO_SUCH_ID)
        assert refused.value.message == f"no user {NO_SUCH_ID}"
        with pytest.raises(Invalid) as refused_user:
            await scope.user(globex.user_ids[0], acme.id)
        assert (
            refused_user.value.message
            == f"user {globex.user_ids[0]} belongs to organization {globex.id}, not {acme.id}"
        )
        with pytest.raises(Invalid) as refused_extension:
            await scope.extension(globex.extension_ids[0], acme.id)
        assert refused_extension.value.message == (
            f"extension {globex.extension_ids[0]} belongs to organization {globex.id}, not {acme.id}"
        )


async def test_every_change_is_audited_with_who_made_it_in_the_same_transaction(
    database: Database, people: People
) -> None:
    acme = people.world.acme
    async with transaction(database, OPERATOR, NOW) as scope:
        await numbers.create_extension(scope, acme.id, "300")
    async with transaction(database, people.admin, NOW) as scope:
        await numbers.create_extension(scope, None, "301")

    async def create_302_twice() -> None:
        async with transaction(database, people.admin, NOW) as scope:
            await numbers.create_extension(scope, None, "302")
            await numbers.create_extension(scope, None, "302")

    with pytest.raises(Conflict, match="extension 302 already exists"):
        await create_302_twice()
    entries = await audit_entries(database)
    assert [(entry.actor, entry.actor_user_id, entry.action, entry.details["number"]) for entry in entries] == [
        ("opbx command line", None, "extension.create", "300"),
        (f"admin@acme.example (user {acme.user_ids[0]})", acme.user_ids[0], "extension.create", "301"),
    ]
    assert all(entry.organization_id == acme.id and entry.at == NOW for entry in entries)
    assert all(entry.target_type == "extension" for entry in entries)


async def test_the_audit_log_never_keeps_a_password_a_hash_or_a_webhook_secret(
    database: Database, people: People
) -> None:
    given_secret = "given-webhook-secret-0123456789"
    async with transaction(database, OPERATOR, NOW) as scope:
        created = await organizations.create(scope, "Initech", given_secret)
        rotated = await organizations.rotate_secret(scope, created.id)
        user = await users.create(
            scope, created.id, email="pw@initech.example", name="P", role="agent", password="first-pw-1234"
        )
        await users.set_password(scope, user.id, "second-pw-1234")
        await users.update(scope, user.id, users.UserChanges(password="third-pw-1234"))
    async with transaction(database, people.agent, NOW) as scope:
        await users.update(
            scope,
            people.acme_agent_id,
            users.UserChanges(password=STRONG_PASSWORD, current_password="correct horse battery staple"),
        )
    entries = await audit_entries(database)
    assert [entry.action for entry in entries] == [
        "organization.create",
        "organization.rotate_secret",
        "user.create",
        "user.set_password",
        "user.update",
        "user.update",
    ]
    async with database.session() as session:
        hashes = [user.password_hash for user in await session.scalars(select(User))]
    text = audit_text(entries)
    for secret in (
        given_secret,
        rotated.webhook_secret,
        "first-pw-1234",
        "second-pw-1234",
        "third-pw-1234",
        STRONG_PASSWORD,
        *hashes,
    ):
        assert secret not in text

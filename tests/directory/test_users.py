"""Users: created and disabled by admins, read by supervisors, agents only themselves; an
organization keeps an active admin; disabling or resetting signs a user out everywhere."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
import pytest
from sqlalchemy import select

from opbx.accounts.passwords import verify_password
from opbx.db.engine import Database
from opbx.db.models import ApiToken, User
from opbx.directory import users
from opbx.directory.errors import Conflict, DirectoryError, Forbidden, Invalid, NotFound
from opbx.directory.rules import PASSWORD_RULE
from opbx.directory.scope import transaction
from tests.directory.support import (
    NO_SUCH_ID,
    NOW,
    OPERATOR,
    STRONG_PASSWORD,
    People,
    add_user,
    audit_entries,
    audit_text,
    count,
    issue,
    load_user,
    token_owner,
)
from tests.helpers.world import PASSWORD

pytestmark = pytest.mark.integration


async def test_the_operator_or_an_admin_creates_a_user_with_a_hashed_password_and_an_audit_entry(
    database: Database, people: People
) -> None:
    acme = people.world.acme
    async with transaction(database, OPERATOR, NOW) as scope:
        record = await users.create(
            scope, acme.id, email=" New.Agent@ACME.example ", name=" New Agent ", role="agent", password=STRONG_PASSWORD
        )
    assert msgspec.to_builtins(record) == {
        "id": record.id,
        "email": "new.agent@acme.example",
        "name": "New Agent",
        "role": "agent",
        "organization_id": acme.id,
        "disabled": False,
        "created_at": "2027-03-01T12:00:00.000Z",
    }
    stored = await load_user(database, record.id)
    assert STRONG_PASSWORD not in stored.password_hash
    assert verify_password(STRONG_PASSWORD, stored.password_hash)
    [entry] = await audit_entries(database)
    assert (entry.action, entry.target_id, entry.actor) == ("user.create", record.id, "opbx command line")
    assert entry.details == {"email": "new.agent@acme.example", "role": "agent"}
    assert STRONG_PASSWORD not in audit_text([entry])
    assert stored.password_hash not in audit_text([entry])
    async with transaction(database, people.admin, NOW) as scope:  # an admin, in their own organization
        by_admin = await users.create(
            scope, None, email="sup2@acme.example", name="S", role="supervisor", password=STRONG_PASSWORD
        )
    assert (by_admin.organization_id, by_admin.role) == (acme.id, "supervisor")
    [_, entry] = await audit_entries(database)
    assert (entry.actor, entry.actor_user_id) == (
        f"admin@acme.example (user {people.acme_admin_id})",
        people.acme_admin_id,
    )


REFUSED_USERS: list[tuple[str, str, str, type[DirectoryError], str]] = [
    (
        "admin@acme.example",
        "agent",
        STRONG_PASSWORD,
        Conflict,
        "a user with the email admin@acme.example already exists",
    ),
    (
        "ADMIN@Acme.Example",
        "agent",
        STRONG_PASSWORD,
        Conflict,
        "a user with the email admin@acme.example already exists",
    ),
    # emails are unique across organizations: they are the sign-in
    (
        "admin@globex.example",
        "agent",
        STRONG_PASSWORD,
        Conflict,
        "a user with the email admin@globex.example already exists",
    ),
    ("new@acme.example", "owner", STRONG_PASSWORD, Invalid, "unknown role 'owner'; use admin, supervisor or agent"),
    ("new@acme.example", "agent", "short-pw", Invalid, f"weak password: {PASSWORD_RULE}"),
    ("new@acme.example", "agent", "New@Acme.Example", Invalid, f"weak password: {PASSWORD_RULE}"),
    ("new@acme.example", "agent", "1234567890", Invalid, f"weak password: {PASSWORD_RULE}"),
    ("not-an-email", "agent", STRONG_PASSWORD, Invalid, "'not-an-email' is not an email address like name@example.com"),
    # PostgreSQL cannot even look up a NUL: the rule must refuse it first, the same on both databases
    (
        "nul\x00@acme.example",
        "agent",
        STRONG_PASSWORD,
        Invalid,
        r"'nul\x00@acme.example' is not an email address like name@example.com",
    ),
]


async def test_a_duplicate_email_an_unknown_role_or_organization_or_a_weak_password_is_refused(
    database: Database, people: People
) -> None:
    before = await count(database, User)
    for email, role, password, error, message in REFUSED_USERS:
        async with transaction(database, OPERATOR, NOW) as scope:
            with pytest.raises(error) as refused:
                await users.create(scope, people.world.acme.id, email=email, name="New", role=role, password=password)
        assert refused.value.message == message, (email, role, password)
    async with transaction(database, OPERATOR, NOW) as scope:
        with pytest.raises(NotFound) as unknown:
            await users.create(scope, NO_SUCH_ID, email="a@b.example", name="A", role="agent", password=STRONG_PASSWORD)
    assert unknown.value.message == f"no organization {NO_SUCH_ID}"
    assert await count(database, User) == before
    assert await audit_entries(database) == []


async def test_supervisors_and_agents_cannot_create_and_admins_cannot_reach_another_organization(
    database: Database, people: People
) -> None:
    for actor in (people.supervisor, people.agent):
        async with transaction(database, actor, NOW) as scope:
            with pytest.raises(Forbidden):
                await users.create(
                    scope, None, email="x@acme.example", name="X", role="agent", password=STRONG_PASSWORD
                )
    globex = people.world.globex.id
    async with transaction(database, people.admin, NOW) as scope:
        with pytest.raises(NotFound) as refused:
            await users.create(scope, globex, email="x@acme.example", name="X", role="admin", password=STRONG_PASSWORD)
    assert refused.value.message == f"no organization {globex}"
    assert await count(database, User) == 5


async def test_admins_and_supervisors_read_everyone_agents_only_themselves(database: Database, people: People) -> None:
    acme_ids = [people.acme_admin_id, people.acme_agent_id, people.supervisor_id]
    for actor in (OPERATOR, people.admin, people.supervisor):
        async with transaction(database, actor, NOW) as scope:
            listed = await users.list_users(scope, people.world.acme.id)
            got = await users.get(scope, people.acme_agent_id)
        assert [record.id for record in listed] == acme_ids
        assert got.email == "agent@acme.example"
    async with transaction(database, people.agent, NOW) as scope:
        assert [record.id for record in await users.list_users(scope)] == [people.acme_agent_id]
        assert (await users.get(scope, people.acme_agent_id)).id == people.acme_agent_id
        with pytest.raises(Forbidden, match="agents see only their own account"):
            await users.get(scope, people.acme_admin_id)
    globex_admin = people.world.globex.user_ids[0]
    for actor in (people.admin, people.supervisor, people.agent):
        async with transaction(database, actor, NOW) as scope:
            with pytest.raises(NotFound) as refused:
                await users.get(scope, globex_admin)
            assert refused.value.message == f"no user {globex_admin} in your organization"
            with pytest.raises(NotFound):
                await users.list_users(scope, people.world.globex.id)


async def test_agents_and_supervisors_edit_only_their_own_name_and_password(database: Database, people: People) -> None:
    for actor, own_id in ((people.agent, people.acme_agent_id), (people.supervisor, people.supervisor_id)):
        async with transaction(database, actor, NOW) as scope:
            assert (await users.update(scope, own_id, users.UserChanges(name="Renamed"))).name == "Renamed"
            with pytest.raises(Forbidden, match="you may change only your own account"):
                await users.update(scope, people.acme_admin_id, users.UserChanges(name="Hijacked"))
            with pytest.raises(Forbidden, match="only an admin may change an email address or a role"):
                await users.update(scope, own_id, users.UserChanges(role="admin"))
            with pytest.raises(Forbidden, match="only an admin may change an email address or a role"):
                await users.update(scope, own_id, users.UserChanges(email="me@acme.example"))
            with pytest.raises(Forbidden):
                await users.set_password(scope, own_id, STRONG_PASSWORD)
            with pytest.raises(Forbidden):
                await users.disable(scope, own_id)
            with pytest.raises(Forbidden):
                await users.enable(scope, own_id)
    assert (await load_user(database, people.acme_admin_id)).name == "Acme Admin"
    assert (await load_user(database, people.acme_agent_id)).role == "agent"


async def test_an_agent_changes_their_password_only_with_the_current_one(database: Database, people: People) -> None:
    token = await issue(database, people.acme_agent_id)
    async with transaction(database, people.agent, NOW) as scope:
        with pytest.raises(Forbidden, match="give your current password"):
            await users.update(scope, people.acme_agent_id, users.UserChanges(password=STRONG_PASSWORD))
        with pytest.raises(Forbidden, match="give your current password"):
            await users.update(
                scope,
                people.acme_agent_id,
                users.UserChanges(password=STRONG_PASSWORD, current_password="wrong guess!"),
            )
        with pytest.raises(Invalid, match="weak password"):
            await users.update(
                scope, people.acme_agent_id, users.UserChanges(password="short", current_password=PASSWORD)
            )
        await users.update(
            scope, people.acme_agent_id, users.UserChanges(password=STRONG_PASSWORD, current_password=PASSWORD)
        )
    assert verify_password(STRONG_PASSWORD, (await load_user(database, people.acme_agent_id)).password_hash)
    assert await token_owner(database, token) == people.acme_agent_id  # their own change keeps their session


async def test_an_admin_changes_email_and_role(database: Database, people: People) -> None:
    async with transaction(database, people.admin, NOW) as scope:
        changed = await users.update(
            scope, people.acme_agent_id, users.UserChanges(email="Lead@Acme.example", role="supervisor")
        )
        with pytest.raises(Conflict, match="already exists"):
            await users.update(scope, people.acme_agent_id, users.UserChanges(email="supervisor@acme.example"))
        with pytest.raises(Invalid, match="unknown role"):
            await users.update(scope, people.acme_agent_id, users.UserChanges(role="boss"))
    assert (changed.email, changed.role) == ("lead@acme.example", "supervisor")
    [entry] = await audit_entries(database)
    assert (entry.action, entry.details) == ("user.update", {"fields": ["email", "role"], "role": "supervisor"})


async def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(database: Database, people: People) -> None:
    admin = people.acme_admin_id
    message = f"user {admin} is the organization's last active admin; make another user admin first"
    async with transaction(database, OPERATOR, NOW) as scope:
        with pytest.raises(Conflict) as disabled:
            await users.disable(scope, admin)
        with pytest.raises(Conflict) as demoted:
            await users.update(scope, admin, users.UserChanges(role="agent"))
    assert disabled.value.message == demoted.value.message == message
    async with transaction(database, people.admin, NOW) as scope:
        with pytest.raises(Conflict, match="you cannot disable your own account"):
            await users.disable(scope, admin)
        with pytest.raises(Conflict, match="last active admin"):
            await users.update(scope, admin, users.UserChanges(role="supervisor"))
    stored = await load_user(database, admin)
    assert (stored.role, stored.disabled_at) == ("admin", None)


async def test_a_disabled_admin_does_not_count_and_a_second_active_one_does(database: Database, people: People) -> None:
    acme = people.world.acme.id
    second = await add_user(database, acme, "second@acme.example", "admin")
    async with transaction(database, OPERATOR, NOW) as scope:
        await users.disable(scope, second)
        with pytest.raises(Conflict, match="last active admin"):
            await users.disable(scope, people.acme_admin_id)
        await users.enable(scope, second)
        demoted = await users.update(scope, people.acme_admin_id, users.UserChanges(role="agent"))
        with pytest.raises(Conflict, match="last active admin"):
            await users.disable(scope, second)
    assert demoted.role == "agent"
    # another organization's admins never count for this one
    assert (await load_user(database, people.world.globex.user_ids[0])).role == "admin"


async def test_disabling_revokes_every_token_and_enabling_restores_sign_in_not_the_tokens(
    database: Database, people: People
) -> None:
    agent = people.acme_agent_id
    tokens = [await issue(database, agent), await issue(database, agent)]
    admins_token = await issue(database, people.acme_admin_id)
    assert [await token_owner(database, token) for token in tokens] == [agent, agent]
    async with transaction(database, people.admin, NOW) as scope:
        record = await users.disable(scope, agent)
    assert record.disabled
    assert await token_owner(database, await issue(database, agent)) is None  # even one that escaped revocation
    assert [await token_owner(database, token) for token in tokens] == [None, None]
    assert await token_owner(database, admins_token) == people.acme_admin_id
    async with database.session() as session:
        revoked = list(
            await session.scalars(select(ApiToken.revoked_at).where(ApiToken.user_id == agent).order_by(ApiToken.id))
        )
    assert revoked == [NOW, NOW, None]
    assert (await load_user(database, agent)).disabled_at == NOW
    async with transaction(database, people.admin, NOW) as scope:
        enabled = await users.enable(scope, agent)
    assert not enabled.disabled
    assert [await token_owner(database, token) for token in tokens] == [None, None]
    assert await token_owner(database, await issue(database, agent)) == agent
    assert [(entry.action, entry.details) for entry in await audit_entries(database)] == [
        ("user.disable", {"email": "agent@acme.example"}),
        ("user.enable", {"email": "agent@acme.example"}),
    ]


async def test_a_password_reset_by_an_admin_signs_the_user_out_everywhere(database: Database, people: People) -> None:
    agent = people.acme_agent_id
    token = await issue(database, agent)
    async with transaction(database, OPERATOR, NOW) as scope:
        with pytest.raises(Invalid) as weak:
            await users.set_password(scope, agent, "agent")
        record = await users.set_password(scope, agent, STRONG_PASSWORD)
    assert weak.value.message == f"weak password: {PASSWORD_RULE}"
    assert record.id == agent
    stored = await load_user(database, agent)
    assert verify_password(STRONG_PASSWORD, stored.password_hash)
    assert not verify_password(PASSWORD, stored.password_hash)
    assert await token_owner(database, token) is None
    [entry] = await audit_entries(database)
    assert (entry.action, entry.details) == ("user.set_password", {})
    # an admin setting someone's password through an update signs them out too; their own does not
    admin = people.acme_admin_id
    agents_token, admins_token = await issue(database, agent), await issue(database, admin)
    async with transaction(database, people.admin, NOW) as scope:
        await users.update(scope, agent, users.UserChanges(password=STRONG_PASSWORD))
        await users.update(scope, admin, users.UserChanges(password="admins own new pw", current_password=PASSWORD))
    assert await token_owner(database, agents_token) is None
    assert await token_owner(database, admins_token) == admin


async def test_admins_cannot_touch_another_organizations_users(database: Database, people: People) -> None:
    globex_agent = people.world.globex.user_ids[1]
    token = await issue(database, globex_agent)
    async with transaction(database, people.admin, NOW) as scope:
        attempts: list[Callable[[], Awaitable[object]]] = [
            lambda: users.disable(scope, globex_agent),
            lambda: users.enable(scope, globex_agent),
            lambda: users.set_password(scope, globex_agent, STRONG_PASSWORD),
            lambda: users.update(scope, globex_agent, users.UserChanges(name="Mine")),
        ]
        for attempt in attempts:
            with pytest.raises(NotFound) as refused:
                await attempt()
            assert refused.value.message == f"no user {globex_agent} in your organization"
    assert await token_owner(database, token) == globex_agent
    assert (await load_user(database, globex_agent)).name == "Globex Agent"

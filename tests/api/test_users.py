"""``/api/v1/users``: who sees whom, who changes what, disabling, and the audit trail."""

from __future__ import annotations

import re
from typing import Any

import httpx

from opbx.directory.rules import PASSWORD_RULE
from tests.api.conftest import bearer, token_for
from tests.helpers.world import PASSWORD, World

ADMIN = "admin@acme.example"
AGENT = "agent@acme.example"
NEW_PASSWORD = "a different long passphrase"
NOW = "2027-01-15T09:00:00.000Z"
"""The test clock's time: when users created through the API were created."""
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def label(email: str, user_id: int) -> str:
    return f"{email} (user {user_id})"


def user(
    user_id: int, email: str, name: str, role: str, organization_id: int, *, disabled: bool = False
) -> dict[str, Any]:
    return {
        "id": user_id,
        "email": email,
        "name": name,
        "role": role,
        "organization_id": organization_id,
        "disabled": disabled,
    }


def timeless(record: dict[str, Any]) -> dict[str, Any]:
    """The record without ``created_at``, checked to be a time (the world's users were made at the real time)."""
    assert TIME.fullmatch(record["created_at"]), record
    return {key: value for key, value in record.items() if key != "created_at"}


def acme_people(world: World) -> list[dict[str, Any]]:
    acme = world.acme
    return [
        user(acme.user_ids[0], ADMIN, "Acme Admin", "admin", acme.id),
        user(acme.user_ids[1], AGENT, "Acme Agent", "agent", acme.id),
    ]


async def add_user(client: httpx.AsyncClient, admin_token: str, email: str, role: str) -> int:
    response = await client.post(
        "/api/v1/users",
        headers=bearer(admin_token),
        json={"email": email, "name": f"Acme {role.title()}", "role": role, "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    user_id: int = response.json()["data"]["id"]
    return user_id


async def listed(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/users", headers=bearer(token))
    assert response.status_code == 200
    return [timeless(record) for record in response.json()["data"]]


async def audit_log(client: httpx.AsyncClient, admin_token: str) -> list[dict[str, Any]]:
    """Newest first, without the ids."""
    response = await client.get("/api/v1/organization/audit-log", headers=bearer(admin_token))
    assert response.status_code == 200
    entries: list[dict[str, Any]] = response.json()["data"]
    for entry in entries:
        assert isinstance(entry.pop("id"), int)
    return entries


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_admins_and_supervisors_see_everyone_agents_only_themselves(
    client: httpx.AsyncClient, world: World
) -> None:
    acme = world.acme
    admin = await token_for(client, ADMIN)
    supervisor_id = await add_user(client, admin, "supervisor@acme.example", "supervisor")
    everyone = [
        *acme_people(world),
        user(supervisor_id, "supervisor@acme.example", "Acme Supervisor", "supervisor", acme.id),
    ]
    assert await listed(client, admin) == everyone
    assert await listed(client, await token_for(client, "supervisor@acme.example")) == everyone
    agent = await token_for(client, AGENT)
    assert await listed(client, agent) == [acme_people(world)[1]]
    globex = await token_for(client, "admin@globex.example")
    assert [record["email"] for record in await listed(client, globex)] == list(world.globex.emails)


async def test_agents_read_only_their_own_account(client: httpx.AsyncClient, world: World) -> None:
    acme, globex = world.acme, world.globex
    agent = await token_for(client, AGENT)
    own = await client.get(f"/api/v1/users/{acme.user_ids[1]}", headers=bearer(agent))
    assert own.status_code == 200
    assert timeless(own.json()["data"]) == acme_people(world)[1]
    admins = await client.get(f"/api/v1/users/{acme.user_ids[0]}", headers=bearer(agent))
    assert (admins.status_code, admins.json()) == (403, {"error": "agents see only their own account", "status": 403})
    for other in (globex.user_ids[1], 2**31 - 1):
        response = await client.get(f"/api/v1/users/{other}", headers=bearer(agent))
        assert response.status_code == 404
        assert response.json() == {"error": f"no user {other} in your organization", "status": 404}


async def test_an_admin_creates_a_user_who_can_sign_in(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    admin = await token_for(client, ADMIN)
    response = await client.post(
        "/api/v1/users",
        headers=bearer(admin),
        json={"email": "  Sam.Super@ACME.example ", "name": "  Sam Super ", "role": "supervisor", "password": PASSWORD},
    )
    assert response.status_code == 201
    new_id = response.json()["data"]["id"]
    assert response.json() == {
        "data": {**user(new_id, "sam.super@acme.example", "Sam Super", "supervisor", acme.id), "created_at": NOW}
    }
    assert new_id not in (*acme.user_ids, *world.globex.user_ids)

    signed_in = await login(client, "sam.super@acme.example", PASSWORD)
    assert signed_in.status_code == 200
    assert signed_in.json()["user"]["role"] == "supervisor"
    assert signed_in.json()["organization"] == {"id": acme.id, "name": "Acme"}

    log = await audit_log(client, admin)
    assert log == [
        {
            "at": NOW,
            "actor": label(ADMIN, acme.user_ids[0]),
            "actor_user_id": acme.user_ids[0],
            "action": "user.create",
            "target_type": "user",
            "target_id": new_id,
            "details": {"email": "sam.super@acme.example", "role": "supervisor"},
        }
    ]
    assert PASSWORD not in str(log)


async def test_creating_a_user_is_refused_with_the_reason(client: httpx.AsyncClient, world: World) -> None:
    admin = await token_for(client, ADMIN)
    good = {"email": "new.person@acme.example", "name": "New Person", "role": "agent", "password": NEW_PASSWORD}
    weak = f"weak password: {PASSWORD_RULE}"
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"email": "ADMIN@acme.example"}, 409, "a user with the email admin@acme.example already exists"),
        ({"email": "agent@globex.example"}, 409, "a user with the email agent@globex.example already exists"),
        ({"email": "not-an-email"}, 422, "'not-an-email' is not an email address like name@example.com"),
        ({"email": "two@at@acme.example"}, 422, "'two@at@acme.example' is not an email address like name@example.com"),
        # PostgreSQL refuses NUL in text: it must be a 422, not a database error.
        (
            {"email": "nul\u0000@acme.example"},
            422,
            "'nul\\x00@acme.example' is not an email address like name@example.com",
        ),
        ({"role": "owner"}, 422, "unknown role 'owner'; use admin, supervisor or agent"),
        ({"role": "Admin"}, 422, "unknown role 'Admin'; use admin, supervisor or agent"),
        ({"password": "short1"}, 422, weak),
        ({"password": "password123"}, 422, weak),
        ({"password": "zzzzzzzzzzzz"}, 422, weak),
        ({"password": "new.person@acme.example"}, 422, weak),
        ({"password": "ab" * 513}, 422, "password longer than 1024 characters"),
        ({"name": "   "}, 422, "name must be 1 to 200 printable characters"),
        ({"name": "a" * 201}, 422, "name must be 1 to 200 printable characters"),
        ({"name": "tab\there"}, 422, "name must be 1 to 200 printable characters"),
        ({"role": 1}, 422, "Invalid body: Expected `str`, got `int` - at `$.role`"),
        ({"is_admin": True}, 422, "Invalid body: Object contains unknown field `is_admin`"),
    ]
    for change, status, message in cases:
        response = await client.post("/api/v1/users", headers=bearer(admin), json={**good, **change})
        assert (response.status_code, response.json()) == (status, {"error": message, "status": status}), change
    missing = {key: value for key, value in good.items() if key != "password"}
    response = await client.post("/api/v1/users", headers=bearer(admin), json=missing)
    assert response.json() == {"error": "Invalid body: Object missing required field `password`", "status": 422}
    for body in (b"{", b"", b"[]"):
        response = await client.post("/api/v1/users", headers=bearer(admin), content=body)
        assert response.status_code == (400 if body == b"{" else 422), body
    assert (await client.post("/api/v1/users", headers=bearer(admin), content=b"{")).json() == {
        "error": "Body is not valid JSON",
        "status": 400,
    }
    assert await listed(client, admin) == acme_people(world)
    assert await audit_log(client, admin) == []
    assert (await login(client, "new.person@acme.example", NEW_PASSWORD)).status_code == 401


async def test_supervisors_change_only_their_own_name_and_password(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    admin = await token_for(client, ADMIN)
    supervisor_id = await add_user(client, admin, "supervisor@acme.example", "supervisor")
    supervisor = await token_for(client, "supervisor@acme.example")
    refusals: list[tuple[str, str, dict[str, Any], str]] = [
        ("PATCH", f"/api/v1/users/{acme.user_ids[1]}", {"name": "Renamed"}, "you may change only your own account"),
        (
            "PATCH",
            f"/api/v1/users/{acme.user_ids[1]}",
            {"password": NEW_PASSWORD, "current_password": PASSWORD},
            "you may change only your own account",
        ),
        (
            "PATCH",
            f"/api/v1/users/{supervisor_id}",
            {"role": "admin"},
            "only an admin may change an email address or a role",
        ),
        (
            "PATCH",
            f"/api/v1/users/{supervisor_id}",
            {"email": "boss@acme.example"},
            "only an admin may change an email address or a role",
        ),
        (
            "POST",
            "/api/v1/users",
            {"email": "x@acme.example", "name": "X", "role": "admin", "password": NEW_PASSWORD},
            "only an admin may change the organization's directory",
        ),
        (
            "POST",
            f"/api/v1/users/{acme.user_ids[1]}/disable",
            {},
            "only an admin may change the organization's directory",
        ),
    ]
    for method, path, body, message in refusals:
        response = await client.request(method, path, headers=bearer(supervisor), json=body)
        assert (response.status_code, response.json()) == (403, {"error": message, "status": 403}), (path, body)
    assert [(entry["action"], entry["target_id"]) for entry in await audit_log(client, admin)] == [
        ("user.create", supervisor_id)
    ]

    renamed = await client.patch(f"/api/v1/users/{supervisor_id}", headers=bearer(supervisor), json={"name": " Sue "})
    assert renamed.status_code == 200
    assert renamed.json()["data"] == {
        **user(supervisor_id, "supervisor@acme.example", "Sue", "supervisor", acme.id),
        "created_at": NOW,
    }
    assert (await audit_log(client, admin))[0] == {
        "at": NOW,
        "actor": label("supervisor@acme.example", supervisor_id),
        "actor_user_id": supervisor_id,
        "action": "user.update",
        "target_type": "user",
        "target_id": supervisor_id,
        "details": {"fields": ["name"], "role": "supervisor"},
    }


async def test_changing_your_own_password_needs_the_current_one(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    agent_id = acme.user_ids[1]
    agent = await token_for(client, AGENT)
    path = f"/api/v1/users/{agent_id}"
    needs_current = {"error": "give your current password (current_password) to set a new one", "status": 403}
    for body in (
        {"password": NEW_PASSWORD},
        {"password": NEW_PASSWORD, "current_password": "not my password at all"},
        {"password": NEW_PASSWORD, "current_password": ""},
    ):
        response = await client.patch(path, headers=bearer(agent), json=body)
        assert (response.status_code, response.json()) == (403, needs_current), body
    weak = await client.patch(path, headers=bearer(agent), json={"password": "short", "current_password": PASSWORD})
    assert (weak.status_code, weak.json()["error"]) == (422, f"weak password: {PASSWORD_RULE}")
    assert (await login(client, AGENT, NEW_PASSWORD)).status_code == 401

    changed = await client.patch(
        path, headers=bearer(agent), json={"password": NEW_PASSWORD, "current_password": PASSWORD, "name": "Ann"}
    )
    assert changed.status_code == 200
    assert timeless(changed.json()["data"]) == user(agent_id, AGENT, "Ann", "agent", acme.id)
    assert "password" not in changed.text
    assert (await login(client, AGENT, PASSWORD)).json() == {"error": "Invalid email or password", "status": 401}
    assert (await login(client, AGENT, NEW_PASSWORD)).status_code == 200
    # Your own change keeps you signed in.
    assert (await client.get(path, headers=bearer(agent))).status_code == 200

    admin = await token_for(client, ADMIN)
    log = await audit_log(client, admin)
    assert log == [
        {
            "at": NOW,
            "actor": label(AGENT, agent_id),
            "actor_user_id": agent_id,
            "action": "user.update",
            "target_type": "user",
            "target_id": agent_id,
            "details": {"fields": ["name", "password"], "role": "agent"},
        }
    ]
    assert NEW_PASSWORD not in str(log)


async def test_an_admin_resets_a_password_and_signs_the_user_out(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    agent_id = acme.user_ids[1]
    agent = await token_for(client, AGENT)
    admin = await token_for(client, ADMIN)
    reset = await client.patch(f"/api/v1/users/{agent_id}", headers=bearer(admin), json={"password": NEW_PASSWORD})
    assert reset.status_code == 200
    assert timeless(reset.json()["data"]) == acme_people(world)[1]
    stale = await client.get(f"/api/v1/users/{agent_id}", headers=bearer(agent))
    assert (stale.status_code, stale.json()) == (401, {"error": "Invalid or expired token", "status": 401})
    assert (await login(client, AGENT, PASSWORD)).status_code == 401
    assert (await login(client, AGENT, NEW_PASSWORD)).status_code == 200
    # The admin's own session is untouched.
    assert (await client.get("/api/v1/users", headers=bearer(admin))).status_code == 200
    entry = (await audit_log(client, admin))[0]
    assert (entry["actor"], entry["action"], entry["target_id"], entry["details"]) == (
        label(ADMIN, acme.user_ids[0]),
        "user.update",
        agent_id,
        {"fields": ["password"], "role": "agent"},
    )


async def test_an_admin_changes_email_and_role(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    agent_id = acme.user_ids[1]
    admin = await token_for(client, ADMIN)
    agent = await token_for(client, AGENT)
    path = f"/api/v1/users/{agent_id}"
    refusals: list[tuple[dict[str, Any], int, str]] = [
        ({"email": "Admin@Acme.example"}, 409, "a user with the email admin@acme.example already exists"),
        ({"email": "admin@globex.example"}, 409, "a user with the email admin@globex.example already exists"),
        ({"email": "nobody"}, 422, "'nobody' is not an email address like name@example.com"),
        ({"role": "root"}, 422, "unknown role 'root'; use admin, supervisor or agent"),
        ({"name": ""}, 422, "name must be 1 to 200 printable characters"),
        ({"password": "letmein123"}, 422, f"weak password: {PASSWORD_RULE}"),
        ({"nickname": "Al"}, 422, "Invalid body: Object contains unknown field `nickname`"),
        ({"role": None}, 422, "Invalid body: Expected `str`, got `null` - at `$.role`"),
    ]
    for body, status, message in refusals:
        response = await client.patch(path, headers=bearer(admin), json=body)
        assert (response.status_code, response.json()) == (status, {"error": message, "status": status}), body
    malformed = await client.patch(path, headers=bearer(admin), content=b'{"name": ')
    assert (malformed.status_code, malformed.json()) == (400, {"error": "Body is not valid JSON", "status": 400})
    unchanged = await client.patch(path, headers=bearer(admin), json={})
    assert (unchanged.status_code, timeless(unchanged.json()["data"])) == (200, acme_people(world)[1])
    assert await audit_log(client, admin) == []

    changed = await client.patch(
        path, headers=bearer(admin), json={"email": " Lead@ACME.example", "role": "supervisor", "name": "Lee"}
    )
    assert changed.status_code == 200
    assert timeless(changed.json()["data"]) == user(agent_id, "lead@acme.example", "Lee", "supervisor", acme.id)
    # The role applies at once to the sessions the user already has.
    assert len(await listed(client, agent)) == 2
    assert (await login(client, "lead@acme.example", PASSWORD)).status_code == 200
    assert (await login(client, AGENT, PASSWORD)).status_code == 401
    assert (await audit_log(client, admin))[0]["details"] == {"fields": ["name", "email", "role"], "role": "supervisor"}


async def test_disabling_revokes_tokens_and_blocks_sign_in(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    agent_id = acme.user_ids[1]
    admin = await token_for(client, ADMIN)
    agent = await token_for(client, AGENT)
    other_session = await token_for(client, AGENT)

    disabled = await client.post(f"/api/v1/users/{agent_id}/disable", headers=bearer(admin))
    assert disabled.status_code == 200
    assert timeless(disabled.json()["data"]) == user(agent_id, AGENT, "Acme Agent", "agent", acme.id, disabled=True)
    for token in (agent, other_session):
        response = await client.get("/api/v1/extensions", headers=bearer(token))
        assert (response.status_code, response.json()) == (401, {"error": "Invalid or expired token", "status": 401})
    refused = await login(client, AGENT, PASSWORD)
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": "This account is disabled; ask an admin of your organization", "status": 403},
    )
    assert (await login(client, AGENT, "a wrong password")).status_code == 401
    assert [record["disabled"] for record in await listed(client, admin)] == [False, True]
    again = await client.post(f"/api/v1/users/{agent_id}/disable", headers=bearer(admin))
    assert (again.status_code, again.json()["data"]["disabled"]) == (200, True)

    enabled = await client.post(f"/api/v1/users/{agent_id}/enable", headers=bearer(admin))
    assert (enabled.status_code, enabled.json()["data"]["disabled"]) == (200, False)
    # The revoked tokens stay revoked; signing in again works.
    assert (await client.get("/api/v1/extensions", headers=bearer(agent))).status_code == 401
    fresh = await token_for(client, AGENT)
    assert (await client.get("/api/v1/extensions", headers=bearer(fresh))).status_code == 200

    log = await audit_log(client, admin)
    actor = label(ADMIN, acme.user_ids[0])
    assert [(entry["actor"], entry["action"], entry["target_id"], entry["details"]) for entry in log] == [
        (actor, "user.enable", agent_id, {"email": AGENT}),
        (actor, "user.disable", agent_id, {"email": AGENT}),  # once: disabling again changed nothing
    ]


async def test_the_last_active_admin_is_kept(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    first_id = acme.user_ids[0]
    first = await token_for(client, ADMIN)
    own = await client.post(f"/api/v1/users/{first_id}/disable", headers=bearer(first))
    assert (own.status_code, own.json()) == (409, {"error": "you cannot disable your own account", "status": 409})

    def last(user_id: int) -> dict[str, Any]:
        message = f"user {user_id} is the organization's last active admin; make another user admin first"
        return {"error": message, "status": 409}

    demoted = await client.patch(f"/api/v1/users/{first_id}", headers=bearer(first), json={"role": "supervisor"})
    assert (demoted.status_code, demoted.json()) == (409, last(first_id))

    second_id = await add_user(client, first, "second.admin@acme.example", "admin")
    assert (await client.post(f"/api/v1/users/{second_id}/disable", headers=bearer(first))).status_code == 200
    # A disabled admin does not count.
    demoted = await client.patch(f"/api/v1/users/{first_id}", headers=bearer(first), json={"role": "supervisor"})
    assert (demoted.status_code, demoted.json()) == (409, last(first_id))
    assert (await client.post(f"/api/v1/users/{second_id}/enable", headers=bearer(first))).status_code == 200

    demoted = await client.patch(f"/api/v1/users/{first_id}", headers=bearer(first), json={"role": "supervisor"})
    assert (demoted.status_code, demoted.json()["data"]["role"]) == (200, "supervisor")
    # The first is a supervisor now, at once; the second is the last active admin.
    assert (await client.post(f"/api/v1/users/{second_id}/disable", headers=bearer(first))).status_code == 403
    second = await token_for(client, "second.admin@acme.example")
    refused = await client.patch(f"/api/v1/users/{second_id}", headers=bearer(second), json={"role": "agent"})
    assert (refused.status_code, refused.json()) == (409, last(second_id))
    assert [record["role"] for record in await listed(client, second)] == ["supervisor", "agent", "admin"]

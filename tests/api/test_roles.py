"""Every admin route with every role, and other organizations' ids: the exact status of each.

The table lists each route once per target (the caller's own account, someone else's, a
record in use); every row is tried with no token, then as an agent, a supervisor and an
admin, in that order, so the admin's change on a row comes after the refusals. The audit
log at the end proves the refusals changed nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from opbx.api import dids, extension_status, extensions, organization, users
from opbx.api.contract import Operation
from tests.api.conftest import bearer, token_for
from tests.helpers.world import PASSWORD, World

ROLES = ("none", "agent", "supervisor", "admin")
NEW_PASSWORD = "a different long passphrase"
NO_SUCH_ID = 2**31 - 1


def everyone(status: int) -> dict[str, int]:
    return {"none": 401, "agent": status, "supervisor": status, "admin": status}


def admins(status: int) -> dict[str, int]:
    return {"none": 401, "agent": 403, "supervisor": 403, "admin": status}


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    """With ``{me}`` (the caller), ``{user}`` (another Acme user), ``{extension}``, ``{routed}``
    (the extension a number rings) and ``{did}``."""
    expected: dict[str, int]
    body: dict[str, Any] | None = None

    def template(self) -> str:
        """The route's OpenAPI path, as the handler modules declare it."""
        path = self.path.split("?")[0]
        for placeholder, parameter in (
            ("{me}", "{user_id}"),
            ("{user}", "{user_id}"),
            ("{extension}", "{extension_id}"),
            ("{routed}", "{extension_id}"),
            ("{did}", "{did_id}"),
        ):
            path = path.replace(placeholder, parameter)
        return path


TABLE = (
    Row("GET", "/api/v1/organization", everyone(200)),
    Row("PATCH", "/api/v1/organization", admins(200), {"name": "Acme Renamed"}),
    Row("POST", "/api/v1/organization/webhook-secret", admins(200)),
    Row("GET", "/api/v1/organization/audit-log?limit=5", admins(200)),
    Row("GET", "/api/v1/users", everyone(200)),
    Row(
        "POST",
        "/api/v1/users",
        admins(201),
        {"email": "new@acme.example", "name": "New Person", "role": "agent", "password": PASSWORD},
    ),
    Row("GET", "/api/v1/users/{me}", everyone(200)),
    Row("GET", "/api/v1/users/{user}", {"none": 401, "agent": 403, "supervisor": 200, "admin": 200}),
    Row("PATCH", "/api/v1/users/{me}", everyone(200), {"name": "Renamed Self"}),
    Row("PATCH", "/api/v1/users/{me}", everyone(200), {"password": NEW_PASSWORD, "current_password": PASSWORD}),
    Row("PATCH", "/api/v1/users/{me}", admins(409), {"role": "agent"}),  # the only admin is kept
    Row("PATCH", "/api/v1/users/{me}", admins(200), {"email": "changed@acme.example"}),
    Row("PATCH", "/api/v1/users/{user}", admins(200), {"name": "Renamed Target"}),
    Row("POST", "/api/v1/users/{user}/disable", admins(200)),
    Row("POST", "/api/v1/users/{user}/enable", admins(200)),
    Row("POST", "/api/v1/users/{me}/disable", admins(409)),  # nobody disables themselves
    Row("POST", "/api/v1/users/{me}/enable", admins(200)),
    Row("GET", "/api/v1/extensions", everyone(200)),
    Row("GET", "/api/v1/extensions/status", everyone(200)),
    Row("POST", "/api/v1/extensions", admins(201), {"number": "301"}),
    Row("GET", "/api/v1/extensions/{extension}", everyone(200)),
    Row("PATCH", "/api/v1/extensions/{extension}", admins(200), {"number": "302", "user_id": None}),
    Row("DELETE", "/api/v1/extensions/{routed}", admins(409)),  # a number rings it
    Row("DELETE", "/api/v1/extensions/{extension}", admins(200)),
    Row("GET", "/api/v1/dids", everyone(200)),
    Row("POST", "/api/v1/dids", admins(201), {"phone_number": "+15550003000"}),
    Row("GET", "/api/v1/dids/{did}", everyone(200)),
    Row("PATCH", "/api/v1/dids/{did}", admins(200), {"phone_number": "+15550007777"}),
    Row("DELETE", "/api/v1/dids/{did}", admins(200)),
)

ADMIN_OPERATIONS: tuple[Operation, ...] = (
    *organization.OPERATIONS,
    *users.OPERATIONS,
    *extension_status.OPERATIONS,
    *extensions.OPERATIONS,
    *dids.OPERATIONS,
)


async def add_user(client: httpx.AsyncClient, admin_token: str, email: str, role: str) -> int:
    response = await client.post(
        "/api/v1/users",
        headers=bearer(admin_token),
        json={"email": email, "name": f"Acme {role.title()}", "role": role, "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    user_id: int = response.json()["data"]["id"]
    return user_id


def test_the_table_tries_every_admin_route() -> None:
    declared = {(operation.method, operation.path) for operation in ADMIN_OPERATIONS}
    tried = {(row.method, row.template()) for row in TABLE}
    assert tried == declared
    assert all(set(row.expected) == set(ROLES) for row in TABLE)


async def test_every_route_with_every_role(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    admin_token = await token_for(client, "admin@acme.example")
    supervisor_id = await add_user(client, admin_token, "supervisor@acme.example", "supervisor")
    target_id = await add_user(client, admin_token, "target@acme.example", "agent")
    tokens = {
        "admin": admin_token,
        "supervisor": await token_for(client, "supervisor@acme.example"),
        "agent": await token_for(client, "agent@acme.example"),
    }
    me = {"none": acme.user_ids[0], "admin": acme.user_ids[0], "supervisor": supervisor_id, "agent": acme.user_ids[1]}

    mismatches: list[str] = []
    for row in TABLE:
        for role in ROLES:
            path = row.path.format(
                me=me[role],
                user=target_id,
                extension=acme.extension_ids[1],
                routed=acme.extension_ids[0],
                did=acme.did_ids[1],
            )
            headers = bearer(tokens[role]) if role in tokens else {}
            response = await client.request(row.method, path, headers=headers, json=row.body)
            if response.status_code != row.expected[role]:
                mismatches.append(f"{row.method} {row.path} as {role}: {response.status_code} {response.text[:120]}")
            if response.status_code >= 400:
                assert response.json()["status"] == response.status_code
    assert mismatches == []

    # The refusals left no trace: only the changes the table expects, each by whom made it.
    log = await client.get("/api/v1/organization/audit-log", headers=bearer(admin_token))
    admin = f"admin@acme.example (user {acme.user_ids[0]})"
    renamed_admin = f"changed@acme.example (user {acme.user_ids[0]})"  # after the admin's own email change
    supervisor = f"supervisor@acme.example (user {supervisor_id})"
    agent = f"agent@acme.example (user {acme.user_ids[1]})"
    assert [(entry["actor"], entry["action"]) for entry in reversed(log.json()["data"])] == [
        (admin, "user.create"),  # the supervisor
        (admin, "user.create"),  # the target
        (admin, "organization.rename"),
        (admin, "organization.rotate_secret"),
        (admin, "user.create"),
        (agent, "user.update"),  # own name
        (supervisor, "user.update"),
        (admin, "user.update"),
        (agent, "user.update"),  # own password
        (supervisor, "user.update"),
        (admin, "user.update"),
        (admin, "user.update"),  # own email
        (renamed_admin, "user.update"),  # the target's name
        (renamed_admin, "user.disable"),
        (renamed_admin, "user.enable"),
        (renamed_admin, "extension.create"),
        (renamed_admin, "extension.update"),
        (renamed_admin, "extension.delete"),
        (renamed_admin, "did.create"),
        (renamed_admin, "did.update"),
        (renamed_admin, "did.delete"),
    ]


def _id_routes(acme_user: int, user: int, extension: int, did: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every route that takes an id, with a body where it needs one."""
    return [
        ("GET", f"/api/v1/users/{user}", None),
        ("PATCH", f"/api/v1/users/{user}", {"name": "Hijacked"}),
        ("PATCH", f"/api/v1/users/{user}", {"password": NEW_PASSWORD, "current_password": PASSWORD}),
        ("POST", f"/api/v1/users/{user}/disable", None),
        ("POST", f"/api/v1/users/{user}/enable", None),
        ("GET", f"/api/v1/extensions/{extension}", None),
        ("PATCH", f"/api/v1/extensions/{extension}", {"user_id": acme_user}),
        ("DELETE", f"/api/v1/extensions/{extension}", None),
        ("GET", f"/api/v1/dids/{did}", None),
        ("PATCH", f"/api/v1/dids/{did}", {"extension_id": None}),
        ("DELETE", f"/api/v1/dids/{did}", None),
    ]


def _globex_markers(world: World) -> list[str]:
    globex = world.globex
    return [
        "globex",
        globex.secret,
        *globex.emails,
        *globex.did_numbers,
        *(number[1:] for number in globex.did_numbers),
    ]


async def test_other_organizations_ids_are_not_found(client: httpx.AsyncClient, world: World) -> None:
    acme, globex = world.acme, world.globex
    token = await token_for(client, "admin@acme.example")
    markers = _globex_markers(world)
    routes = [
        *_id_routes(acme.user_ids[1], globex.user_ids[1], globex.extension_ids[0], globex.did_ids[0]),
        *_id_routes(acme.user_ids[1], globex.user_ids[0], globex.extension_ids[1], globex.did_ids[1]),
        # Acme's own records, pointed at Globex's.
        ("POST", "/api/v1/extensions", {"number": "150", "user_id": globex.user_ids[1]}),
        ("PATCH", f"/api/v1/extensions/{acme.extension_ids[1]}", {"user_id": globex.user_ids[1]}),
        ("POST", "/api/v1/dids", {"phone_number": "+15550009000", "extension_id": globex.extension_ids[0]}),
        ("PATCH", f"/api/v1/dids/{acme.did_ids[1]}", {"extension_id": globex.extension_ids[0]}),
    ]
    kinds = {"users": "user", "extensions": "extension", "dids": "number"}
    for method, path, body in routes:
        response = await client.request(method, path, headers=bearer(token), json=body)
        assert response.status_code == 404, f"{method} {path}: {response.status_code} {response.text}"
        error = response.json()["error"]
        assert re.fullmatch(rf"no ({'|'.join(kinds.values())}) \d+ in your organization", error), error
        assert not [marker for marker in markers if marker.lower() in response.text.lower()], response.text

    # Nothing changed on either side.
    globex_token = await token_for(client, "admin@globex.example")
    assert (await client.get("/api/v1/organization/audit-log", headers=bearer(globex_token))).json()["data"] == []
    assert (await client.get("/api/v1/organization/audit-log", headers=bearer(token))).json()["data"] == []
    listed_users = (await client.get("/api/v1/users", headers=bearer(globex_token))).json()["data"]
    assert [(user["id"], user["name"], user["disabled"]) for user in listed_users] == [
        (globex.user_ids[0], "Globex Admin", False),
        (globex.user_ids[1], "Globex Agent", False),
    ]
    listed_extensions = (await client.get("/api/v1/extensions", headers=bearer(globex_token))).json()["data"]
    assert [(extension["id"], extension["user_id"]) for extension in listed_extensions] == list(
        zip(globex.extension_ids, globex.user_ids, strict=True)
    )
    listed_dids = (await client.get("/api/v1/dids", headers=bearer(globex_token))).json()["data"]
    assert [(did["id"], did["extension_id"]) for did in listed_dids] == [
        (globex.did_ids[0], globex.extension_ids[0]),
        (globex.did_ids[1], None),
    ]
    assert (await client.post("/api/v1/auth/login", json={"email": globex.emails[1], "password": PASSWORD})).is_success


async def test_other_organizations_ids_answer_as_missing_ones_for_every_role(
    client: httpx.AsyncClient, world: World
) -> None:
    """Whatever the role, another organization's id gets exactly the answer of an id that does not exist."""
    acme, globex = world.acme, world.globex
    admin_token = await token_for(client, "admin@acme.example")
    await add_user(client, admin_token, "supervisor@acme.example", "supervisor")
    tokens = {
        "agent": await token_for(client, "agent@acme.example"),
        "supervisor": await token_for(client, "supervisor@acme.example"),
        "admin": admin_token,
    }
    theirs = _id_routes(acme.user_ids[1], globex.user_ids[1], globex.extension_ids[0], globex.did_ids[0])
    missing = _id_routes(acme.user_ids[1], NO_SUCH_ID, NO_SUCH_ID, NO_SUCH_ID)
    for role, token in tokens.items():
        for (method, path, body), (_, missing_path, _) in zip(theirs, missing, strict=True):
            response = await client.request(method, path, headers=bearer(token), json=body)
            reference = await client.request(method, missing_path, headers=bearer(token), json=body)
            assert response.status_code == reference.status_code, f"{method} {path} as {role}"
            assert response.status_code in (403, 404), f"{method} {path} as {role}: {response.status_code}"
            assert response.json()["error"] == reference.json()["error"].replace(str(NO_SUCH_ID), path.split("/")[4])


async def test_a_non_canonical_id_in_the_path_is_not_found(client: httpx.AsyncClient, world: World) -> None:
    token = await token_for(client, "admin@acme.example")
    user_id = world.acme.user_ids[1]
    # Every route with an id.
    templates = [(operation.method, operation.path) for operation in ADMIN_OPERATIONS if "{" in operation.path]
    assert len(templates) == 10
    what = {"user_id": "user", "extension_id": "extension", "did_id": "number"}
    for text in (f"00{user_id}", "abc", "99999999999", "2147483648", "0", "-1", "1.0", "1e3", "+1", "\u0661"):
        for method, template in templates:
            name = template.split("{")[1].split("}")[0]
            path = template.replace("{" + name + "}", text)
            body: dict[str, Any] | None = {} if method == "PATCH" else None
            response = await client.request(method, path, headers=bearer(token), json=body)
            assert response.status_code == 404, f"{method} {path}: {response.status_code}"
            assert response.json() == {"error": f"No {what[name]} {text!r}", "status": 404}
    # The canonical form of the same id is found.
    assert (await client.get(f"/api/v1/users/{user_id}", headers=bearer(token))).status_code == 200

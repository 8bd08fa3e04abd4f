"""``/api/v1/extensions``: everyone reads them, admins create, renumber, assign and delete them."""

from __future__ import annotations

import json
from typing import Any

import httpx

from opbx.telephony.ingest import sign_body
from tests.api.conftest import T0, bearer, token_for
from tests.helpers.world import World

ADMIN = "admin@acme.example"
NOW = "2027-01-15T09:00:00.000Z"


def extension(extension_id: int, number: str, organization_id: int, user_id: int | None) -> dict[str, Any]:
    return {"id": extension_id, "number": number, "organization_id": organization_id, "user_id": user_id}


def acme_extensions(world: World) -> list[dict[str, Any]]:
    acme = world.acme
    return [
        extension(acme.extension_ids[0], "101", acme.id, acme.user_ids[0]),
        extension(acme.extension_ids[1], "102", acme.id, acme.user_ids[1]),
    ]


async def listed(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/extensions", headers=bearer(token))
    assert response.status_code == 200
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def audit_log(client: httpx.AsyncClient, admin_token: str) -> list[dict[str, Any]]:
    """Newest first: (actor, action, target id, details)."""
    response = await client.get("/api/v1/organization/audit-log", headers=bearer(admin_token))
    assert response.status_code == 200
    entries: list[dict[str, Any]] = response.json()["data"]
    assert all(entry["at"] == NOW and entry["target_type"] == "extension" for entry in entries), entries
    return [
        {key: entry[key] for key in ("actor", "actor_user_id", "action", "target_id", "details")} for entry in entries
    ]


async def call_to(client: httpx.AsyncClient, world: World, call_id: str, number: str) -> None:
    body = json.dumps({"call_id": call_id, "to": number, "timestamp": T0}).encode()
    response = await client.post(
        f"/webhooks/cloudonix/call-initiated?org={world.acme.id}",
        content=body,
        headers={"X-Cloudonix-Signature": sign_body(world.acme.secret, body)},
    )
    assert response.status_code == 200, response.text


async def test_every_member_reads_the_extensions(client: httpx.AsyncClient, world: World) -> None:
    acme, globex = world.acme, world.globex
    agent = await token_for(client, "agent@acme.example")
    assert await listed(client, agent) == acme_extensions(world)
    one = await client.get(f"/api/v1/extensions/{acme.extension_ids[0]}", headers=bearer(agent))
    assert (one.status_code, one.json()) == (200, {"data": acme_extensions(world)[0]})
    for other in (*globex.extension_ids, 2**31 - 1):
        response = await client.get(f"/api/v1/extensions/{other}", headers=bearer(agent))
        assert response.json() == {"error": f"no extension {other} in your organization", "status": 404}
    globex_admin = await token_for(client, "admin@globex.example")
    assert [(record["id"], record["number"]) for record in await listed(client, globex_admin)] == list(
        zip(globex.extension_ids, ("101", "102"), strict=True)
    )


async def test_create_renumber_assign_and_delete(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    admin_id, agent_id = acme.user_ids
    admin = await token_for(client, ADMIN)
    created = await client.post(
        "/api/v1/extensions", headers=bearer(admin), json={"number": " 201 ", "user_id": agent_id}
    )
    assert created.status_code == 201
    new_id = created.json()["data"]["id"]
    assert created.json() == {"data": extension(new_id, "201", acme.id, agent_id)}
    unassigned = await client.post("/api/v1/extensions", headers=bearer(admin), json={"number": "0"})
    assert unassigned.status_code == 201
    zero_id = unassigned.json()["data"]["id"]
    assert unassigned.json() == {"data": extension(zero_id, "0", acme.id, None)}
    assert await listed(client, admin) == [
        extension(zero_id, "0", acme.id, None),
        *acme_extensions(world),
        extension(new_id, "201", acme.id, agent_id),
    ]

    path = f"/api/v1/extensions/{new_id}"
    renumbered = await client.patch(path, headers=bearer(admin), json={"number": "202"})
    assert (renumbered.status_code, renumbered.json()) == (200, {"data": extension(new_id, "202", acme.id, agent_id)})
    moved = await client.patch(path, headers=bearer(admin), json={"user_id": admin_id})
    assert moved.json() == {"data": extension(new_id, "202", acme.id, admin_id)}
    unassigned_again = await client.patch(path, headers=bearer(admin), json={"user_id": None})
    assert unassigned_again.json() == {"data": extension(new_id, "202", acme.id, None)}
    same = await client.patch(path, headers=bearer(admin), json={"number": "202"})
    assert same.json() == {"data": extension(new_id, "202", acme.id, None)}
    untouched = await client.patch(path, headers=bearer(admin), json={})
    assert untouched.json() == {"data": extension(new_id, "202", acme.id, None)}

    deleted = await client.delete(path, headers=bearer(admin))
    assert (deleted.status_code, deleted.json()) == (200, {"data": extension(new_id, "202", acme.id, None)})
    gone = await client.get(path, headers=bearer(admin))
    assert gone.json() == {"error": f"no extension {new_id} in your organization", "status": 404}
    assert (await client.delete(path, headers=bearer(admin))).status_code == 404
    assert await listed(client, admin) == [extension(zero_id, "0", acme.id, None), *acme_extensions(world)]

    actor = {"actor": f"{ADMIN} (user {admin_id})", "actor_user_id": admin_id}
    assert await audit_log(client, admin) == [
        {**actor, "action": "extension.delete", "target_id": new_id, "details": {"number": "202"}},
        {**actor, "action": "extension.update", "target_id": new_id, "details": {"user_id": None}},
        {**actor, "action": "extension.update", "target_id": new_id, "details": {"user_id": admin_id}},
        {**actor, "action": "extension.update", "target_id": new_id, "details": {"number": "202"}},
        {**actor, "action": "extension.create", "target_id": zero_id, "details": {"number": "0", "user_id": None}},
        {**actor, "action": "extension.create", "target_id": new_id, "details": {"number": "201", "user_id": agent_id}},
    ]


async def test_the_same_number_in_another_organization_is_fine(client: httpx.AsyncClient, world: World) -> None:
    admin = await token_for(client, ADMIN)
    globex = await token_for(client, "admin@globex.example")
    for token in (admin, globex):
        response = await client.post("/api/v1/extensions", headers=bearer(token), json={"number": "777"})
        assert response.status_code == 201
    taken = await client.post("/api/v1/extensions", headers=bearer(globex), json={"number": "777"})
    assert taken.status_code == 409


async def test_bad_extensions_are_refused_with_the_reason(client: httpx.AsyncClient, world: World) -> None:
    acme, globex = world.acme, world.globex
    admin = await token_for(client, ADMIN)

    def not_a_number(value: str) -> str:
        return f"{value!r} is not an extension number: 1 to 16 digits, like 101"

    creations: list[tuple[dict[str, Any], int, str]] = [
        ({"number": "101"}, 409, f"extension 101 already exists (extension id {acme.extension_ids[0]})"),
        ({"number": " 102"}, 409, f"extension 102 already exists (extension id {acme.extension_ids[1]})"),
        *(
            ({"number": value}, 422, not_a_number(value))
            for value in ("", "  ", "10a", "1" * 17, "+101", "1 01", "-5", "1.5", "\u0661\u0660\u0661", "\uff11")
        ),
        ({"number": 103}, 422, "Invalid body: Expected `str`, got `int` - at `$.number`"),
        ({"number": "103", "user_id": 0}, 422, "Invalid body: Expected `int` >= 1 - at `$.user_id`"),
        ({"number": "103", "user_id": 2**31}, 422, "Invalid body: Expected `int` <= 2147483647 - at `$.user_id`"),
        ({"number": "103", "user_id": "1"}, 422, "Invalid body: Expected `int | null`, got `str` - at `$.user_id`"),
        ({"number": "103", "user_id": 2**31 - 1}, 404, "no user 2147483647 in your organization"),
        ({"number": "103", "user_id": globex.user_ids[0]}, 404, f"no user {globex.user_ids[0]} in your organization"),
        ({"number": "103", "name": "desk"}, 422, "Invalid body: Object contains unknown field `name`"),
        ({}, 422, "Invalid body: Object missing required field `number`"),
    ]
    for body, status, message in creations:
        response = await client.post("/api/v1/extensions", headers=bearer(admin), json=body)
        assert (response.status_code, response.json()) == (status, {"error": message, "status": status}), body
    malformed = await client.post("/api/v1/extensions", headers=bearer(admin), content=b'{"number": "103"')
    assert (malformed.status_code, malformed.json()) == (400, {"error": "Body is not valid JSON", "status": 400})

    path = f"/api/v1/extensions/{acme.extension_ids[1]}"
    changes: list[tuple[dict[str, Any], int, str]] = [
        ({"number": "101"}, 409, f"extension 101 already exists (extension id {acme.extension_ids[0]})"),
        ({"number": "x"}, 422, not_a_number("x")),
        ({"number": None}, 422, "Invalid body: Expected `str`, got `null` - at `$.number`"),
        ({"user_id": globex.user_ids[1]}, 404, f"no user {globex.user_ids[1]} in your organization"),
        ({"number": "555", "user_id": globex.user_ids[1]}, 404, f"no user {globex.user_ids[1]} in your organization"),
        ({"user_id": -1}, 422, "Invalid body: Expected `int` >= 1 - at `$.user_id`"),
        ({"id": 9}, 422, "Invalid body: Object contains unknown field `id`"),
    ]
    for body, status, message in changes:
        response = await client.patch(path, headers=bearer(admin), json=body)
        assert (response.status_code, response.json()) == (status, {"error": message, "status": status}), body

    # Nothing was created or changed (not even the number of the refused renumbering with a bad user).
    assert await listed(client, admin) == acme_extensions(world)
    assert await audit_log(client, admin) == []


async def test_an_extension_in_use_is_not_deleted(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    routed_id = acme.extension_ids[0]
    admin = await token_for(client, ADMIN)
    path = f"/api/v1/extensions/{routed_id}"
    refused = await client.delete(path, headers=bearer(admin))
    assert (refused.status_code, refused.json()) == (
        409,
        {
            "error": f"extension 101 still receives {acme.did_numbers[0]}; route those numbers elsewhere first",
            "status": 409,
        },
    )

    await call_to(client, world, "rang-101", acme.did_numbers[0])
    rerouted = await client.patch(f"/api/v1/dids/{acme.did_ids[0]}", headers=bearer(admin), json={"extension_id": None})
    assert rerouted.status_code == 200
    refused = await client.delete(path, headers=bearer(admin))
    assert (refused.status_code, refused.json()) == (
        409,
        {"error": "extension 101 is in the history of 1 call(s); unassign it (no user) instead", "status": 409},
    )
    # What the refusal suggests works, and the extension stays.
    unassigned = await client.patch(path, headers=bearer(admin), json={"user_id": None})
    assert unassigned.json() == {"data": extension(routed_id, "101", acme.id, None)}
    assert [record["id"] for record in await listed(client, admin)] == list(acme.extension_ids)
    # The call still names its extension.
    call = await client.get("/api/v1/call-logs/rang-101", headers=bearer(admin))
    assert call.json()["data"]["extension_id"] == routed_id

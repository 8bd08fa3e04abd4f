"""``/api/v1/dids``: everyone reads the numbers, admins register, change, route and delete them."""

from __future__ import annotations

import json
from typing import Any

import httpx

from opbx.telephony.ingest import sign_body
from tests.api.conftest import T0, bearer, token_for
from tests.helpers.world import World

ADMIN = "admin@acme.example"
NOW = "2027-01-15T09:00:00.000Z"


def did(did_id: int, phone_number: str, organization_id: int, extension_id: int | None) -> dict[str, Any]:
    return {
        "id": did_id,
        "phone_number": phone_number,
        "organization_id": organization_id,
        "extension_id": extension_id,
    }


def acme_dids(world: World) -> list[dict[str, Any]]:
    acme = world.acme
    return [
        did(acme.did_ids[0], "+15550001000", acme.id, acme.extension_ids[0]),
        did(acme.did_ids[1], "+15550002000", acme.id, None),
    ]


async def listed(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/dids", headers=bearer(token))
    assert response.status_code == 200
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def audit_log(client: httpx.AsyncClient, admin_token: str) -> list[dict[str, Any]]:
    """Newest first: (actor, action, target id, details)."""
    response = await client.get("/api/v1/organization/audit-log", headers=bearer(admin_token))
    assert response.status_code == 200
    entries: list[dict[str, Any]] = response.json()["data"]
    assert all(entry["at"] == NOW and entry["target_type"] == "did" for entry in entries), entries
    return [
        {key: entry[key] for key in ("actor", "actor_user_id", "action", "target_id", "details")} for entry in entries
    ]


async def test_every_member_reads_the_numbers(client: httpx.AsyncClient, world: World) -> None:
    acme, globex = world.acme, world.globex
    agent = await token_for(client, "agent@acme.example")
    assert await listed(client, agent) == acme_dids(world)
    one = await client.get(f"/api/v1/dids/{acme.did_ids[1]}", headers=bearer(agent))
    assert (one.status_code, one.json()) == (200, {"data": acme_dids(world)[1]})
    for other in (*globex.did_ids, 2**31 - 1):
        response = await client.get(f"/api/v1/dids/{other}", headers=bearer(agent))
        assert response.json() == {"error": f"no number {other} in your organization", "status": 404}
    globex_agent = await token_for(client, "agent@globex.example")
    assert [record["phone_number"] for record in await listed(client, globex_agent)] == list(globex.did_numbers)


async def test_register_route_change_and_delete(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    admin_id = acme.user_ids[0]
    first, second = acme.extension_ids
    admin = await token_for(client, ADMIN)
    created = await client.post(
        "/api/v1/dids", headers=bearer(admin), json={"phone_number": " +442071838750 ", "extension_id": second}
    )
    assert created.status_code == 201
    new_id = created.json()["data"]["id"]
    assert created.json() == {"data": did(new_id, "+442071838750", acme.id, second)}
    shortest = await client.post("/api/v1/dids", headers=bearer(admin), json={"phone_number": "+12"})
    longest = await client.post("/api/v1/dids", headers=bearer(admin), json={"phone_number": "+123456789012345"})
    assert (shortest.status_code, longest.status_code) == (201, 201)
    short_id, long_id = shortest.json()["data"]["id"], longest.json()["data"]["id"]
    assert await listed(client, admin) == [
        did(short_id, "+12", acme.id, None),
        did(long_id, "+123456789012345", acme.id, None),
        *acme_dids(world),
        did(new_id, "+442071838750", acme.id, second),
    ]

    path = f"/api/v1/dids/{new_id}"
    unrouted = await client.patch(path, headers=bearer(admin), json={"extension_id": None})
    assert (unrouted.status_code, unrouted.json()) == (200, {"data": did(new_id, "+442071838750", acme.id, None)})
    changed = await client.patch(
        path, headers=bearer(admin), json={"phone_number": "+442071838751", "extension_id": first}
    )
    assert changed.json() == {"data": did(new_id, "+442071838751", acme.id, first)}
    untouched = await client.patch(path, headers=bearer(admin), json={"phone_number": "+442071838751"})
    assert untouched.json() == {"data": did(new_id, "+442071838751", acme.id, first)}

    # The extension it now rings cannot be deleted until it is routed elsewhere.
    ringing = await client.delete(f"/api/v1/extensions/{first}", headers=bearer(admin))
    assert ringing.status_code == 409
    assert "+442071838751" in ringing.json()["error"]

    deleted = await client.delete(path, headers=bearer(admin))
    assert (deleted.status_code, deleted.json()) == (200, {"data": did(new_id, "+442071838751", acme.id, first)})
    gone = await client.get(path, headers=bearer(admin))
    assert gone.json() == {"error": f"no number {new_id} in your organization", "status": 404}
    assert (await client.delete(path, headers=bearer(admin))).status_code == 404
    # The number is free again.
    again = await client.post("/api/v1/dids", headers=bearer(admin), json={"phone_number": "+442071838751"})
    assert again.status_code == 201

    actor = {"actor": f"{ADMIN} (user {admin_id})", "actor_user_id": admin_id}
    assert (await audit_log(client, admin))[1:] == [
        {**actor, "action": "did.delete", "target_id": new_id, "details": {"phone_number": "+442071838751"}},
        {
            **actor,
            "action": "did.update",
            "target_id": new_id,
            "details": {"phone_number": "+442071838751", "extension_id": first},
        },
        {**actor, "action": "did.update", "target_id": new_id, "details": {"extension_id": None}},
        {
            **actor,
            "action": "did.create",
            "target_id": long_id,
            "details": {"phone_number": "+123456789012345", "extension_id": None},
        },
        {
            **actor,
            "action": "did.create",
            "target_id": short_id,
            "details": {"phone_number": "+12", "extension_id": None},
        },
        {
            **actor,
            "action": "did.create",
            "target_id": new_id,
            "details": {"phone_number": "+442071838750", "extension_id": second},
        },
    ]


async def test_bad_numbers_are_refused_with_the_reason(client: httpx.AsyncClient, world: World) -> None:
    acme, globex = world.acme, world.globex
    admin = await token_for(client, ADMIN)

    def not_e164(value: str) -> str:
        return f"{value!r} is not an E.164 number: write + then 2 to 15 digits, like +15550100100"

    invalid = (
        "",
        "15550003000",
        "+0123456789",
        "+1",
        "+1234567890123456",
        "+1 555 000 3000",
        "+1-555-000-3000",
        "+1555000300a",
        "++15550003000",
        "+\u0661\u0665\u0665\u0665",
    )
    creations: list[tuple[dict[str, Any], int, str]] = [
        ({"phone_number": "+15550001000"}, 409, "the number +15550001000 is already registered"),
        # Numbers are the provider's: one belongs to one organization.
        ({"phone_number": globex.did_numbers[0]}, 409, f"the number {globex.did_numbers[0]} is already registered"),
        *(({"phone_number": value}, 422, not_e164(value)) for value in invalid),
        ({"phone_number": 15550003000}, 422, "Invalid body: Expected `str`, got `int` - at `$.phone_number`"),
        (
            {"phone_number": "+15550003000", "extension_id": 0},
            422,
            "Invalid body: Expected `int` >= 1 - at `$.extension_id`",
        ),
        (
            {"phone_number": "+15550003000", "extension_id": globex.extension_ids[0]},
            404,
            f"no extension {globex.extension_ids[0]} in your organization",
        ),
        (
            {"phone_number": "+15550003000", "extension_id": 2**31 - 1},
            404,
            "no extension 2147483647 in your organization",
        ),
        ({"phone_number": "+15550003000", "label": "x"}, 422, "Invalid body: Object contains unknown field `label`"),
        ({}, 422, "Invalid body: Object missing required field `phone_number`"),
    ]
    for body, status, message in creations:
        response = await client.post("/api/v1/dids", headers=bearer(admin), json=body)
        assert (response.status_code, response.json()) == (status, {"error": message, "status": status}), body
    malformed = await client.post("/api/v1/dids", headers=bearer(admin), content=b"phone_number=+15550003000")
    assert (malformed.status_code, malformed.json()) == (400, {"error": "Body is not valid JSON", "status": 400})

    path = f"/api/v1/dids/{acme.did_ids[1]}"
    changes: list[tuple[dict[str, Any], int, str]] = [
        ({"phone_number": "+15550001000"}, 409, "the number +15550001000 is already registered"),
        ({"phone_number": globex.did_numbers[1]}, 409, f"the number {globex.did_numbers[1]} is already registered"),
        ({"phone_number": "555"}, 422, not_e164("555")),
        (
            {"extension_id": globex.extension_ids[1]},
            404,
            f"no extension {globex.extension_ids[1]} in your organization",
        ),
        (
            {"phone_number": "+15550003000", "extension_id": globex.extension_ids[1]},
            404,
            f"no extension {globex.extension_ids[1]} in your organization",
        ),
        ({"extension_id": "101"}, 422, "Invalid body: Expected `int | null`, got `str` - at `$.extension_id`"),
        ({"organization_id": globex.id}, 422, "Invalid body: Object contains unknown field `organization_id`"),
    ]
    for body, status, message in changes:
        response = await client.patch(path, headers=bearer(admin), json=body)
        assert (response.status_code, response.json()) == (status, {"error": message, "status": status}), body

    assert await listed(client, admin) == acme_dids(world)
    assert await audit_log(client, admin) == []


async def test_a_number_in_the_call_history_is_not_deleted(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    admin = await token_for(client, ADMIN)
    body = json.dumps({"call_id": "to-second", "to": acme.did_numbers[1], "timestamp": T0}).encode()
    call = await client.post(
        "/webhooks/cloudonix/call-initiated",
        content=body,
        headers={"X-Cloudonix-Signature": sign_body(acme.secret, body)},
    )
    assert call.status_code == 200
    path = f"/api/v1/dids/{acme.did_ids[1]}"
    refused = await client.delete(path, headers=bearer(admin))
    assert (refused.status_code, refused.json()) == (
        409,
        {"error": "the number +15550002000 is in the history of 1 call(s); it cannot be deleted", "status": 409},
    )
    # It can still be routed; the untouched one is deleted.
    routed = await client.patch(path, headers=bearer(admin), json={"extension_id": acme.extension_ids[1]})
    assert routed.json() == {"data": did(acme.did_ids[1], "+15550002000", acme.id, acme.extension_ids[1])}
    assert (await client.delete(f"/api/v1/dids/{acme.did_ids[0]}", headers=bearer(admin))).status_code == 200
    assert await listed(client, admin) == [did(acme.did_ids[1], "+15550002000", acme.id, acme.extension_ids[1])]

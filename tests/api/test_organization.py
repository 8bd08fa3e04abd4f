"""``/api/v1/organization``: reading and renaming it, rotating its webhook secret, its audit log."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from opbx.telephony.ingest import sign_body
from tests.api.conftest import T0, bearer, token_for
from tests.helpers.world import World

ADMIN = "admin@acme.example"
NOW = "2027-01-15T09:00:00.000Z"
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def webhook_paths(organization_id: int) -> dict[str, str]:
    return {
        kind: f"/webhooks/cloudonix/{kind}?org={organization_id}" for kind in ("call-initiated", "call-status", "cdr")
    }


async def signed_webhook(client: httpx.AsyncClient, organization_id: int, secret: str, call_id: str) -> httpx.Response:
    body = json.dumps({"call_id": call_id, "to": "+15550002000", "timestamp": T0}).encode()
    return await client.post(
        f"/webhooks/cloudonix/call-initiated?org={organization_id}",
        content=body,
        headers={"X-Cloudonix-Signature": sign_body(secret, body)},
    )


async def audit_entries(client: httpx.AsyncClient, token: str, query: str = "") -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/organization/audit-log{query}", headers=bearer(token))
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["data"]
    return entries


async def test_every_member_reads_the_organization_without_its_secret(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    agent = await token_for(client, "agent@acme.example")
    response = await client.get("/api/v1/organization", headers=bearer(agent))
    assert response.status_code == 200
    data = response.json()["data"]
    assert TIME.fullmatch(data.pop("created_at"))
    assert data == {"id": acme.id, "name": "Acme", "webhook_paths": webhook_paths(acme.id)}
    assert acme.secret not in response.text
    assert "secret" not in response.text
    globex = await token_for(client, "agent@globex.example")
    theirs = (await client.get("/api/v1/organization", headers=bearer(globex))).json()["data"]
    assert (theirs["id"], theirs["name"], theirs["webhook_paths"]) == (
        world.globex.id,
        "Globex",
        webhook_paths(world.globex.id),
    )


async def test_an_admin_renames_the_organization(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    admin = await token_for(client, ADMIN)
    refusals: list[tuple[bytes | dict[str, Any], int, str]] = [
        ({"name": ""}, 422, "Invalid body: Expected `str` of length >= 1 - at `$.name`"),
        ({"name": "   "}, 422, "name must be 1 to 200 printable characters"),
        ({"name": "n" * 201}, 422, "Invalid body: Expected `str` of length <= 200 - at `$.name`"),
        ({"name": "Acme\u0000"}, 422, "name must be 1 to 200 printable characters"),
        ({"name": "Acme\nCorp"}, 422, "name must be 1 to 200 printable characters"),
        ({"name": None}, 422, "Invalid body: Expected `str`, got `null` - at `$.name`"),
        ({}, 422, "Invalid body: Object missing required field `name`"),
        (
            {"name": "Acme", "webhook_secret": "x" * 32},
            422,
            "Invalid body: Object contains unknown field `webhook_secret`",
        ),
        (b'{"name": "Acme Corp"', 400, "Body is not valid JSON"),
        (b"\xff\xfe", 400, "Body is not valid JSON"),
    ]
    for body, status, message in refusals:
        if isinstance(body, bytes):
            response = await client.patch("/api/v1/organization", headers=bearer(admin), content=body)
        else:
            response = await client.patch("/api/v1/organization", headers=bearer(admin), json=body)
        assert (response.status_code, response.json()) == (status, {"error": message, "status": status}), body
    assert await audit_entries(client, admin) == []

    renamed = await client.patch("/api/v1/organization", headers=bearer(admin), json={"name": "  Acme Corp\u00e9  "})
    assert renamed.status_code == 200
    data = renamed.json()["data"]
    assert (data["id"], data["name"], data["webhook_paths"]) == (acme.id, "Acme Corp\u00e9", webhook_paths(acme.id))
    assert "webhook_secret" not in data
    agent = await token_for(client, "agent@acme.example")
    assert (await client.get("/api/v1/organization", headers=bearer(agent))).json()["data"]["name"] == "Acme Corp\u00e9"
    assert (await client.get("/api/v1/auth/me", headers=bearer(agent))).json()["organization"] == {
        "id": acme.id,
        "name": "Acme Corp\u00e9",
    }
    globex = await token_for(client, "agent@globex.example")
    assert (await client.get("/api/v1/organization", headers=bearer(globex))).json()["data"]["name"] == "Globex"

    [entry] = await audit_entries(client, admin)
    assert isinstance(entry.pop("id"), int)
    assert entry == {
        "at": NOW,
        "actor": f"{ADMIN} (user {acme.user_ids[0]})",
        "actor_user_id": acme.user_ids[0],
        "action": "organization.rename",
        "target_type": "organization",
        "target_id": acme.id,
        "details": {"before": "Acme", "after": "Acme Corp\u00e9"},
    }


async def test_rotating_the_webhook_secret(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    admin = await token_for(client, ADMIN)
    assert (await signed_webhook(client, acme.id, acme.secret, "before")).status_code == 200

    rotated = await client.post("/api/v1/organization/webhook-secret", headers=bearer(admin))
    assert rotated.status_code == 200
    data = rotated.json()["data"]
    secret = data.pop("webhook_secret")
    assert TIME.fullmatch(data.pop("created_at"))
    assert data == {"id": acme.id, "name": "Acme", "webhook_paths": webhook_paths(acme.id)}
    assert secret != acme.secret
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", secret), secret  # 256 random bits, URL-safe

    old = await signed_webhook(client, acme.id, acme.secret, "with-the-old-secret")
    assert old.status_code == 401
    assert (await signed_webhook(client, acme.id, secret, "with-the-new-secret")).status_code == 200
    # Without the organization named, the new secret is found among all of them too.
    body = json.dumps({"call_id": "unhinted", "to": "+15550002000", "timestamp": T0}).encode()
    unhinted = await client.post(
        "/webhooks/cloudonix/call-initiated", content=body, headers={"X-Cloudonix-Signature": sign_body(secret, body)}
    )
    assert unhinted.status_code == 200
    # Globex's secret is untouched.
    globex = world.globex
    globex_call = json.dumps({"call_id": "globex", "to": globex.did_numbers[1], "timestamp": T0}).encode()
    response = await client.post(
        f"/webhooks/cloudonix/call-initiated?org={globex.id}",
        content=globex_call,
        headers={"X-Cloudonix-Signature": sign_body(globex.secret, globex_call)},
    )
    assert response.status_code == 200

    # Shown once: reading the organization does not show it.
    shown = await client.get("/api/v1/organization", headers=bearer(admin))
    assert secret not in shown.text
    assert "webhook_secret" not in shown.json()["data"]

    again = await client.post("/api/v1/organization/webhook-secret", headers=bearer(admin))
    newest = again.json()["data"]["webhook_secret"]
    assert newest not in (secret, acme.secret)
    assert (await signed_webhook(client, acme.id, secret, "with-the-previous-secret")).status_code == 401
    assert (await signed_webhook(client, acme.id, newest, "with-the-newest-secret")).status_code == 200

    log = await client.get("/api/v1/organization/audit-log", headers=bearer(admin))
    assert [(entry["action"], entry["target_id"], entry["details"]) for entry in log.json()["data"]] == [
        ("organization.rotate_secret", acme.id, {}),
        ("organization.rotate_secret", acme.id, {}),
    ]
    assert secret not in log.text
    assert newest not in log.text


async def test_the_audit_log_pages_newest_first(client: httpx.AsyncClient, world: World) -> None:
    admin = await token_for(client, ADMIN)
    for name in ("Acme 1", "Acme 2", "Acme 3", "Acme 4"):
        response = await client.patch("/api/v1/organization", headers=bearer(admin), json={"name": name})
        assert response.status_code == 200
    globex = await token_for(client, "admin@globex.example")
    assert (await client.patch("/api/v1/organization", headers=bearer(globex), json={"name": "G"})).status_code == 200

    everything = await audit_entries(client, admin)
    assert [entry["details"]["after"] for entry in everything] == ["Acme 4", "Acme 3", "Acme 2", "Acme 1"]
    ids = [entry["id"] for entry in everything]
    assert ids == sorted(ids, reverse=True)

    first_page = await audit_entries(client, admin, "?limit=2")
    assert first_page == everything[:2]
    second_page = await audit_entries(client, admin, f"?limit=2&before={first_page[-1]['id']}")
    assert second_page == everything[2:]
    assert await audit_entries(client, admin, f"?limit=2&before={second_page[-1]['id']}") == []
    assert await audit_entries(client, admin, f"?before={ids[0]}") == everything[1:]
    assert await audit_entries(client, admin, "?limit=500&before=2147483647") == everything
    assert await audit_entries(client, admin, "?limit=&before=") == everything
    # Globex sees its own change only.
    [theirs] = await audit_entries(client, globex)
    assert theirs["details"] == {"before": "Globex", "after": "G"}

    for query, name, high in (
        ("limit=0", "limit", 500),
        ("limit=501", "limit", 500),
        ("limit=-1", "limit", 500),
        ("limit=abc", "limit", 500),
        ("limit=05", "limit", 500),
        ("limit=2.0", "limit", 500),
        ("before=0", "before", 2**31 - 1),
        ("before=007", "before", 2**31 - 1),
        ("before=2147483648", "before", 2**31 - 1),
        ("before=99999999999999999999", "before", 2**31 - 1),
    ):
        response = await client.get(f"/api/v1/organization/audit-log?{query}", headers=bearer(admin))
        assert (response.status_code, response.json()) == (
            422,
            {"error": f"'{name}' must be a whole number from 1 to {high}", "status": 422},
        ), query

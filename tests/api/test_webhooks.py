"""Provider webhooks over HTTP: statuses for every kind of bad input."""

from __future__ import annotations

import json

import httpx

from opbx.telephony.ingest import sign_body
from tests.api.conftest import T0
from tests.helpers.world import World


async def post(
    client: httpx.AsyncClient, kind: str, body: bytes, signature: str | None, query: str = ""
) -> httpx.Response:
    headers = {"X-Cloudonix-Signature": signature} if signature is not None else {}
    return await client.post(f"/webhooks/cloudonix/{kind}{query}", content=body, headers=headers)


async def test_statuses(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    good = json.dumps({"call_id": "c1", "to": acme.did_numbers[0], "timestamp": T0}).encode()
    response = await post(client, "call-initiated", good, sign_body(acme.secret, good))
    assert response.status_code == 200
    assert response.json() == {
        "outcome": "applied",
        "call_id": "c1",
        "call_status": "initiated",
        "events": ["call.initiated"],
        "reason": None,
    }
    duplicate = await post(client, "call-initiated", good, sign_body(acme.secret, good))
    assert (duplicate.status_code, duplicate.json()["outcome"]) == (200, "duplicate")

    assert (await post(client, "call-initiated", good, None)).status_code == 401
    assert (await post(client, "call-initiated", good, "0" * 64)).status_code == 401
    assert (
        await post(client, "call-initiated", good, sign_body(acme.secret, good), f"?org={world.globex.id}")
    ).status_code == 401
    hinted = await post(
        client,
        "call-status",
        b'{"callIds":["c1"],"status":"ringing"}',
        sign_body(acme.secret, b'{"callIds":["c1"],"status":"ringing"}'),
        f"?org={acme.id}",
    )
    assert hinted.status_code == 200

    theirs = json.dumps({"call_id": "c2", "to": world.globex.did_numbers[0]}).encode()
    assert (await post(client, "call-initiated", theirs, sign_body(acme.secret, theirs))).status_code == 403
    nobody = json.dumps({"call_id": "c3", "to": "+10000000000"}).encode()
    assert (await post(client, "call-initiated", nobody, sign_body(acme.secret, nobody))).status_code == 404
    garbage = b"{not json"
    response = await post(client, "cdr", garbage, sign_body(acme.secret, garbage))
    assert response.status_code == 422
    assert "JSON" in response.json()["error"]
    assert (await post(client, "teleport", good, sign_body(acme.secret, good))).status_code == 404
    huge = b"{" + b" " * 300_000 + b"}"
    assert (await post(client, "cdr", huge, sign_body(acme.secret, huge))).status_code == 413

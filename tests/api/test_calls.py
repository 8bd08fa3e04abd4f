"""Call logs over REST, and that no organization ever sees another's."""

from __future__ import annotations

import json
from typing import Any

import httpx

from opbx.telephony.ingest import sign_body
from tests.api.conftest import T0, bearer, token_for
from tests.helpers.clock import ManualClock
from tests.helpers.world import World


async def webhook(client: httpx.AsyncClient, secret: str, kind: str, **fields: Any) -> httpx.Response:
    body = json.dumps(fields).encode()
    return await client.post(
        f"/webhooks/cloudonix/{kind}", content=body, headers={"X-Cloudonix-Signature": sign_body(secret, body)}
    )


async def calls_for(client: httpx.AsyncClient, world: World) -> None:
    """Acme: one answered call in progress, one missed, one completed. Globex: one ringing."""
    acme, globex = world.acme, world.globex
    await webhook(client, acme.secret, "call-initiated", call_id="a-live", to=acme.did_numbers[0], timestamp=T0 + 100)
    await webhook(
        client, acme.secret, "call-status", callIds=["a-live"], status="answered", modifiedAt=(T0 + 130) * 1000
    )
    await webhook(client, acme.secret, "call-initiated", call_id="a-missed", to=acme.did_numbers[1], timestamp=T0 + 10)
    await webhook(
        client, acme.secret, "call-status", callIds=["a-missed"], status="no-answer", modifiedAt=(T0 + 40) * 1000
    )
    await webhook(
        client, acme.secret, "cdr", call_id="a-done", to=acme.did_numbers[0], disposition="ANSWERED", billsec=90
    )
    await webhook(client, globex.secret, "call-initiated", call_id="g-ring", to=globex.did_numbers[0], timestamp=T0)


async def test_active_calls_with_the_server_time(client: httpx.AsyncClient, world: World) -> None:
    await calls_for(client, world)
    token = await token_for(client, "agent@acme.example")
    response = await client.get("/api/v1/call-logs/active", headers=bearer(token))
    body = response.json()
    assert body["server_time"] == "2027-01-15T09:00:00.000Z"
    assert [call["call_id"] for call in body["data"]] == ["a-live"]
    live = body["data"][0]
    assert live["status"] == "answered"
    assert live["answered_by"] == {"id": world.acme.user_ids[0], "name": "Acme Admin", "extension_number": "101"}
    assert live["did"] == {"id": world.acme.did_ids[0], "phone_number": world.acme.did_numbers[0]}


async def test_organizations_never_see_each_others_calls(client: httpx.AsyncClient, world: World) -> None:
    await calls_for(client, world)
    globex = await token_for(client, "agent@globex.example")
    active = (await client.get("/api/v1/call-logs/active", headers=bearer(globex))).json()["data"]
    assert [call["call_id"] for call in active] == ["g-ring"]
    listed = (await client.get("/api/v1/call-logs", headers=bearer(globex))).json()
    assert [call["call_id"] for call in listed["data"]] == ["g-ring"]
    assert (await client.get("/api/v1/call-logs/a-live", headers=bearer(globex))).status_code == 404
    stats = (await client.get("/api/v1/call-logs/statistics", headers=bearer(globex))).json()["data"]
    assert (stats["total"], stats["answered"], stats["missed"]) == (1, 0, 0)


async def test_list_filters_and_pages(client: httpx.AsyncClient, world: World) -> None:
    await calls_for(client, world)
    token = await token_for(client, "admin@acme.example")
    everything = (await client.get("/api/v1/call-logs", headers=bearer(token))).json()
    assert everything["meta"] == {"page": 1, "per_page": 25, "total": 3, "last_page": 1}
    missed = (await client.get("/api/v1/call-logs?status=no_answer", headers=bearer(token))).json()
    assert [call["call_id"] for call in missed["data"]] == ["a-missed"]
    paged = (await client.get("/api/v1/call-logs?per_page=2&page=2", headers=bearer(token))).json()
    assert paged["meta"]["last_page"] == 2
    assert len(paged["data"]) == 1
    number = await client.get(f"/api/v1/call-logs?search={world.acme.did_numbers[1][1:]}", headers=bearer(token))
    assert [call["call_id"] for call in number.json()["data"]] == ["a-missed"]
    for bad in ("status=lost", "per_page=1000", "page=0", "from=yesterday", "direction=sideways"):
        assert (await client.get(f"/api/v1/call-logs?{bad}", headers=bearer(token))).status_code == 422


async def test_detail_includes_the_raw_provider_records(client: httpx.AsyncClient, world: World) -> None:
    await calls_for(client, world)
    token = await token_for(client, "admin@acme.example")
    detail = (await client.get("/api/v1/call-logs/a-missed", headers=bearer(token))).json()["data"]
    assert [record["kind"] for record in detail["provider_records"]] == ["call-initiated", "call-status"]
    assert detail["provider_records"][1]["body"]["status"] == "no-answer"


async def test_statistics_for_today(client: httpx.AsyncClient, world: World, clock: ManualClock) -> None:
    await calls_for(client, world)
    token = await token_for(client, "admin@acme.example")
    stats = (await client.get("/api/v1/call-logs/statistics", headers=bearer(token))).json()["data"]
    # a-live waited 30 s before answer; a-missed rang 30 s; a-done (a cdr at "now") waited nothing.
    assert stats == {
        "date": "2027-01-15",
        "total": 3,
        "active": 1,
        "answered": 2,
        "missed": 1,
        "average_duration": 90,
        "longest_wait": 30,
    }

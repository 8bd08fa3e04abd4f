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


async def test_detail_has_the_timeline_of_each_state_entered(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    await webhook(client, acme.secret, "call-initiated", call_id="t1", to=acme.did_numbers[0], timestamp=T0 + 1)
    await webhook(client, acme.secret, "call-status", callIds=["t1"], status="ringing", modifiedAt=(T0 + 2) * 1000)
    token = await token_for(client, "agent@acme.example")
    ringing = (await client.get("/api/v1/call-logs/t1", headers=bearer(token))).json()["data"]
    assert ringing["ringing_at"] == "2027-01-15T08:00:02.000Z"
    assert ringing["timeline"] == [
        {"status": "initiated", "at": "2027-01-15T08:00:01.000Z"},
        {"status": "ringing", "at": "2027-01-15T08:00:02.000Z"},
    ]
    (active,) = (await client.get("/api/v1/call-logs/active", headers=bearer(token))).json()["data"]
    assert (active["status"], active["ringing_at"]) == ("ringing", "2027-01-15T08:00:02.000Z")
    await webhook(client, acme.secret, "call-status", callIds=["t1"], status="answered", modifiedAt=(T0 + 9) * 1000)
    await webhook(client, acme.secret, "call-status", callIds=["t1"], status="completed", modifiedAt=(T0 + 70) * 1000)
    done = (await client.get("/api/v1/call-logs/t1", headers=bearer(token))).json()["data"]
    assert [(step["status"], step["at"][11:19]) for step in done["timeline"]] == [
        ("initiated", "08:00:01"),
        ("ringing", "08:00:02"),
        ("answered", "08:00:09"),
        ("completed", "08:01:10"),
    ]
    listed = (await client.get("/api/v1/call-logs", headers=bearer(token))).json()["data"]
    assert [call["ringing_at"] for call in listed] == ["2027-01-15T08:00:02.000Z"]


async def test_the_timeline_of_a_call_never_ringing_or_answered(client: httpx.AsyncClient, world: World) -> None:
    await calls_for(client, world)
    token = await token_for(client, "admin@acme.example")
    missed = (await client.get("/api/v1/call-logs/a-missed", headers=bearer(token))).json()["data"]
    assert missed["ringing_at"] is None
    assert missed["timeline"] == [
        {"status": "initiated", "at": "2027-01-15T08:00:10.000Z"},
        {"status": "no_answer", "at": "2027-01-15T08:00:40.000Z"},
    ]
    live = (await client.get("/api/v1/call-logs/a-live", headers=bearer(token))).json()["data"]
    assert [step["status"] for step in live["timeline"]] == ["initiated", "answered"]


def hours(**counts: tuple[int, int, int]) -> list[dict[str, int]]:
    """The 24 per-hour entries, zero but for ``h8=(total, answered, missed)`` and the like."""
    found = {int(name[1:]): value for name, value in counts.items()}
    return [
        dict(zip(("hour", "total", "answered", "missed"), (hour, *found.get(hour, (0, 0, 0))), strict=True))
        for hour in range(24)
    ]


def buckets(*counts: int) -> list[dict[str, int | None]]:
    return [{"le": le, "count": count} for le, count in zip((5, 10, 20, 30, 60, None), counts, strict=True)]


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
        "per_hour": hours(h8=(2, 1, 1), h9=(1, 1, 0)),
        "time_to_answer": buckets(1, 0, 0, 1, 0, 0),
    }


async def test_time_to_answer_buckets_hold_their_upper_bound(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    waits = {"w0": 0.0, "w5": 5.0, "w5.5": 5.5, "w10": 10.0, "w20": 20.0, "w45": 45.0, "w60": 60.0, "w61": 61.0}
    for call_id, wait in waits.items():
        start = (T0 + 600) * 1000
        await webhook(client, acme.secret, "call-initiated", call_id=call_id, to=acme.did_numbers[1], timestamp=start)
        answered = {"answerTime": start + int(wait * 1000), "modifiedAt": start + int(wait * 1000)}
        await webhook(client, acme.secret, "call-status", callIds=[call_id], status="answered", **answered)
    # One unanswered call yesterday counts nowhere; one today at 00:59:59 counts in hour 0.
    await webhook(client, acme.secret, "call-initiated", call_id="old", to=acme.did_numbers[1], timestamp=T0 - 86_400)
    await webhook(client, acme.secret, "call-initiated", call_id="early", to=acme.did_numbers[1], timestamp=T0 - 25_201)
    token = await token_for(client, "agent@acme.example")
    stats = (await client.get("/api/v1/call-logs/statistics", headers=bearer(token))).json()["data"]
    assert stats["time_to_answer"] == buckets(2, 2, 1, 0, 2, 1)
    assert stats["per_hour"] == hours(h0=(1, 0, 0), h8=(8, 8, 0))


async def test_a_call_failing_after_its_answer_is_answered_not_missed(client: httpx.AsyncClient, world: World) -> None:
    acme = world.acme
    await webhook(client, acme.secret, "call-initiated", call_id="f1", to=acme.did_numbers[1], timestamp=T0)
    await webhook(client, acme.secret, "call-status", callIds=["f1"], status="answered", modifiedAt=(T0 + 7) * 1000)
    await webhook(client, acme.secret, "call-status", callIds=["f1"], status="failed", modifiedAt=(T0 + 9) * 1000)
    token = await token_for(client, "admin@acme.example")
    stats = (await client.get("/api/v1/call-logs/statistics", headers=bearer(token))).json()["data"]
    assert (stats["answered"], stats["missed"], stats["per_hour"][8]) == (
        1,
        0,
        {"hour": 8, "total": 1, "answered": 1, "missed": 0},
    )
    assert stats["time_to_answer"] == buckets(0, 1, 0, 0, 0, 0)

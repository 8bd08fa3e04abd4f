"""The extensions board's snapshot, with presence from a real realtime server in this process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from opbx.api.settings import BackendSettings
from opbx.db.engine import Database
from opbx.realtime.server import RealtimeServer
from opbx.system import start_backend
from opbx.telephony.ingest import sign_body
from tests.api.conftest import T0, bearer, token_for
from tests.helpers.apps import TEST_APP
from tests.helpers.clock import ManualClock
from tests.helpers.openapi_check import check_response_hook
from tests.helpers.pusher_client import PusherClient
from tests.helpers.world import World

STATUS = "/api/v1/extensions/status"


@pytest.fixture
async def live(
    server: RealtimeServer, database: Database, world: World, clock: ManualClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The API, publishing to (and asking presence of) the realtime server in this process."""
    settings = BackendSettings(app=TEST_APP, broadcast_driver="inprocess")
    backend = await start_backend(settings, realtime=server, clock=clock, database=database, run_relay=False)
    transport = httpx.ASGITransport(app=backend.api)
    hooks = {"response": [check_response_hook]}
    async with httpx.AsyncClient(transport=transport, base_url="http://opbx.test", event_hooks=hooks) as client:
        yield client
    await backend.relay.stop()


async def join(client: httpx.AsyncClient, server: RealtimeServer, email: str, organization_id: int) -> PusherClient:
    """What the dashboard does on load: connect, have the API authorize presence, subscribe."""
    socket = await PusherClient.connect(server.port, TEST_APP.key)
    channel = f"presence-org.{organization_id}"
    token = await token_for(client, email)
    auth = await client.post(
        "/api/v1/broadcasting/auth",
        data={"socket_id": socket.socket_id, "channel_name": channel},
        headers=bearer(token),
    )
    answer = await socket.subscribe_signed(channel, auth.json())
    assert answer["event"] == "pusher_internal:subscription_succeeded", answer
    return socket


async def webhook(client: httpx.AsyncClient, secret: str, kind: str, **fields: Any) -> None:
    body = json.dumps(fields).encode()
    response = await client.post(
        f"/webhooks/cloudonix/{kind}", content=body, headers={"X-Cloudonix-Signature": sign_body(secret, body)}
    )
    assert response.status_code == 200, response.text


async def board(client: httpx.AsyncClient, token: str) -> dict[str, dict[str, Any]]:
    """The snapshot's entries by extension number (checking the answer's shape on the way)."""
    response = await client.get(STATUS, headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["server_time"] == "2027-01-15T09:00:00.000Z"
    assert isinstance(body["seq"], int)
    return {entry["number"]: entry for entry in body["data"]}


def states(entries: dict[str, dict[str, Any]]) -> dict[str, tuple[str, bool | None]]:
    return {number: (entry["state"], entry["online"]) for number, entry in entries.items()}


async def test_each_extensions_state_follows_its_calls_and_presence(
    live: httpx.AsyncClient, server: RealtimeServer, world: World
) -> None:
    acme = world.acme  # 101: Acme Admin, rung by the first number; 102: Acme Agent
    agent_socket = await join(live, server, "agent@acme.example", acme.id)
    token = await token_for(live, "agent@acme.example")  # an agent reads the board too
    try:
        entries = await board(live, token)
        assert states(entries) == {"101": ("offline", False), "102": ("available", True)}
        assert entries["101"]["user"] == {"id": acme.user_ids[0], "name": "Acme Admin"}
        assert entries["102"]["id"] == acme.extension_ids[1]

        await webhook(live, acme.secret, "call-initiated", call_id="r1", to=acme.did_numbers[0], timestamp=T0 + 60)
        first = (await board(live, token))["101"]
        assert (first["state"], first["call"]["status"], first["call"]["since"]) == (
            "ringing",
            "initiated",
            "2027-01-15T08:01:00.000Z",
        )
        await webhook(live, acme.secret, "call-status", callIds=["r1"], status="ringing", modifiedAt=(T0 + 62) * 1000)
        ringing = (await board(live, token))["101"]
        assert ringing["call"] == {
            "call_id": "r1",
            "status": "ringing",
            "direction": "inbound",
            "from_number": "unknown",
            "to_number": acme.did_numbers[0],
            "since": "2027-01-15T08:01:02.000Z",
        }

        await webhook(live, acme.secret, "call-status", callIds=["r1"], status="answered", modifiedAt=(T0 + 70) * 1000)
        talking = (await board(live, token))["101"]
        assert (talking["state"], talking["online"]) == ("on-call", False)  # on a call, signed in or not
        assert (talking["call"]["status"], talking["call"]["since"]) == ("answered", "2027-01-15T08:01:10.000Z")

        await webhook(live, acme.secret, "call-status", callIds=["r1"], status="completed", modifiedAt=(T0 + 99) * 1000)
        assert states(await board(live, token)) == {"101": ("offline", False), "102": ("available", True)}
        admin_socket = await join(live, server, "admin@acme.example", acme.id)
        assert states(await board(live, token)) == {"101": ("available", True), "102": ("available", True)}
        await admin_socket.close()
        await until_state(live, token, "101", "offline")  # signed out: offline once the server notices
    finally:
        await agent_socket.close()


async def until_state(client: httpx.AsyncClient, token: str, number: str, state: str) -> None:
    for _ in range(100):
        if (await board(client, token))[number]["state"] == state:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"extension {number} never became {state}")


async def test_only_the_callers_organization_in_numeric_order(
    live: httpx.AsyncClient, server: RealtimeServer, world: World
) -> None:
    acme, globex = world.acme, world.globex
    admin = await token_for(live, "admin@acme.example")
    created = await live.post("/api/v1/extensions", json={"number": "99"}, headers=bearer(admin))
    assert created.status_code == 201
    globex_socket = await join(live, server, "agent@globex.example", globex.id)
    try:
        await webhook(live, globex.secret, "call-initiated", call_id="g1", to=globex.did_numbers[0], timestamp=T0)
        response = await live.get(STATUS, headers=bearer(admin))
        entries = response.json()["data"]
        assert [entry["number"] for entry in entries] == ["99", "101", "102"]  # 99 before 101
        assert {entry["id"] for entry in entries} == {created.json()["data"]["id"], *acme.extension_ids}
        assert entries[0] == {
            "id": created.json()["data"]["id"],
            "number": "99",
            "user": None,
            "state": "offline",
            "online": False,
            "call": None,
        }
        assert [entry["state"] for entry in entries] == ["offline", "offline", "offline"]  # Globex's doings not here
        globex_board = (await live.get(STATUS, headers=bearer(await token_for(live, "agent@globex.example")))).json()
        assert [entry["id"] for entry in globex_board["data"]] == list(globex.extension_ids)
        assert states({entry["number"]: entry for entry in globex_board["data"]}) == {
            "101": ("ringing", False),
            "102": ("available", True),
        }
        assert globex_board["seq"] == 1
    finally:
        await globex_socket.close()


async def test_signed_in_members_only(live: httpx.AsyncClient) -> None:
    assert (await live.get(STATUS)).status_code == 401
    assert (await live.get(STATUS, headers=bearer("not-a-token"))).status_code == 401


async def test_presence_that_cannot_be_asked_is_null_and_calls_still_show(
    client: httpx.AsyncClient, world: World
) -> None:
    """The test backend's broadcaster has no realtime server to ask."""
    acme = world.acme
    await webhook(client, acme.secret, "call-initiated", call_id="n1", to=acme.did_numbers[0], timestamp=T0)
    entries = await board(client, await token_for(client, "agent@acme.example"))
    assert states(entries) == {"101": ("ringing", None), "102": ("offline", None)}

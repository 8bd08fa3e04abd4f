"""The whole path, over real sockets: webhook → state machine → SQL → outbox → realtime → browser client."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from opbx.api.settings import BackendSettings
from opbx.db.engine import Database
from opbx.realtime.server import RealtimeServer
from opbx.system import Backend, HttpServer, start_backend
from opbx.telephony.ingest import sign_body
from tests.conftest import ServerFactory
from tests.helpers.apps import TEST_APP
from tests.helpers.node_scenario import find_node, run_scenario
from tests.helpers.pusher_client import PusherClient
from tests.helpers.world import PASSWORD, World

pytestmark = pytest.mark.integration


class Stack:
    def __init__(self, backend: Backend, http: HttpServer) -> None:
        self.backend = backend
        self.http = http
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{http.port}")

    async def close(self) -> None:
        await self.client.aclose()
        await self.http.stop()
        await self.backend.stop()

    async def token(self, email: str) -> str:
        response = await self.client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        token: str = response.json()["token"]
        return token

    async def join(self, realtime_port: int, token: str, channel: str) -> PusherClient:
        """What the dashboard does: connect, ask our API for auth, subscribe."""
        client = await PusherClient.connect(realtime_port, TEST_APP.key)
        auth = await self.client.post(
            "/api/v1/broadcasting/auth",
            data={"socket_id": client.socket_id, "channel_name": channel},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert auth.status_code == 200, auth.text
        answer = await client.subscribe_signed(channel, auth.json())
        assert answer["event"] == "pusher_internal:subscription_succeeded", answer
        return client

    async def webhook(self, secret: str, kind: str, **fields: Any) -> httpx.Response:
        body = json.dumps(fields).encode()
        return await self.client.post(
            f"/webhooks/cloudonix/{kind}", content=body, headers={"X-Cloudonix-Signature": sign_body(secret, body)}
        )


async def start_stack(settings: BackendSettings, database: Database, realtime: RealtimeServer | None) -> Stack:
    backend = await start_backend(settings, realtime=realtime, database=database)
    http = HttpServer(backend.api, "127.0.0.1", 0)
    await http.start()
    return Stack(backend, http)


@pytest.fixture
async def embedded(server: RealtimeServer, database: Database, world: World) -> AsyncIterator[Stack]:
    stack = await start_stack(BackendSettings(app=TEST_APP, broadcast_driver="inprocess"), database, server)
    yield stack
    await stack.close()


def data_of(message: dict[str, Any]) -> dict[str, Any]:
    """The seed's payload: without our event_id and the organization's seq (checked to be there)."""
    data: dict[str, Any] = json.loads(message["data"])
    assert isinstance(data.pop("event_id"), str)
    assert isinstance(data.pop("seq"), int)
    return data


async def test_a_call_reaches_every_member_of_the_organization_and_no_one_else(
    embedded: Stack, server: RealtimeServer, world: World
) -> None:
    acme, globex = world.acme, world.globex
    admin = await embedded.join(server.port, await embedded.token("admin@acme.example"), f"presence-org.{acme.id}")
    agent = await embedded.join(server.port, await embedded.token("agent@acme.example"), f"presence-org.{acme.id}")
    outsider = await embedded.join(
        server.port, await embedded.token("agent@globex.example"), f"presence-org.{globex.id}"
    )
    joined = await admin.expect("pusher_internal:member_added")
    assert json.loads(joined["data"])["user_info"]["name"] == "Acme Agent"

    did = acme.did_numbers[0]
    await embedded.webhook(
        acme.secret, "call-initiated", call_id="live-1", to=did, timestamp=1_800_000_000, **{"from": "+15550001111"}
    )
    await embedded.webhook(
        acme.secret, "call-status", callIds=["live-1"], status="answered", answerTime=1_800_000_004_000
    )
    await embedded.webhook(
        acme.secret,
        "cdr",
        call_id="live-1",
        to=did,
        disposition="ANSWERED",
        billsec=33,
        recording_url="https://r/1.mp3",
    )
    await embedded.webhook(
        acme.secret, "call-status", callIds=["live-1"], status="completed", endTime=1_800_000_037_000
    )
    for client in (admin, agent):
        initiated = await client.expect("call.initiated")
        assert initiated["channel"] == f"presence-org.{acme.id}"
        assert data_of(initiated) == {
            "call_id": "live-1",
            "from_number": "+15550001111",
            "to_number": did,
            "did_id": acme.did_ids[0],
            "status": "initiated",
            "initiated_at": "2027-01-15T08:00:00.000Z",
        }
        answered = data_of(await client.expect("call.answered"))
        assert answered["extension_id"] == acme.extension_ids[0]
        assert answered["answered_by"]["extension_number"] == "101"
        ended = data_of(await client.expect("call.ended"))
        assert (ended["status"], ended["duration"], ended["recording_url"]) == ("completed", 33, "https://r/1.mp3")
    await outsider.nothing_within(0.3)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_no_event_is_lost_while_the_realtime_server_is_down(
    make_server: ServerFactory, database: Database, world: World
) -> None:
    port = free_port()
    settings = BackendSettings(app=TEST_APP, broadcast_driver="pusher", pusher_urls=(f"http://127.0.0.1:{port}",))
    stack = await start_stack(settings, database, None)
    try:
        acme = world.acme
        token = await stack.token("admin@acme.example")
        # The realtime server is down: the provider's webhooks are still accepted...
        for call_id in ("down-1", "down-2"):
            response = await stack.webhook(acme.secret, "call-initiated", call_id=call_id, to=acme.did_numbers[1])
            assert response.status_code == 200
        await stack.webhook(acme.secret, "call-status", callIds=["down-1"], status="busy")
        assert await stack.backend.relay.pending() == 3
        # ...and delivered, in order, once it is back.
        realtime = await make_server(port=port)
        listener = await stack.join(realtime.port, token, f"presence-org.{acme.id}")
        received = [data_of(await listener.expect(event, timeout=20)) for event in ("call.initiated",) * 2]
        ended = data_of(await listener.expect("call.ended", timeout=20))
        assert [event["call_id"] for event in received] == ["down-1", "down-2"]
        assert (ended["call_id"], ended["status"]) == ("down-1", "busy")
        for _ in range(200):  # the relay marks an event sent just after it lands
            if await stack.backend.relay.pending() == 0:
                break
            await asyncio.sleep(0.05)
        assert await stack.backend.relay.pending() == 0
    finally:
        await stack.close()


@pytest.mark.js
async def test_laravel_echo_authorizes_through_the_api_and_hears_the_calls(
    embedded: Stack, server: RealtimeServer, world: World
) -> None:
    acme = world.acme
    tokens = {"admin": await embedded.token("admin@acme.example"), "agent": await embedded.token("agent@acme.example")}
    api = f"http://127.0.0.1:{embedded.http.port}/api/v1"

    async def calls(ready: dict[str, Any]) -> None:
        did = acme.did_numbers[0]
        await embedded.webhook(acme.secret, "call-initiated", call_id="echo-1", to=did, **{"from": "+15550009999"})
        await embedded.webhook(acme.secret, "call-status", callIds=["echo-1"], status="answered")
        await embedded.webhook(acme.secret, "call-status", callIds=["echo-1"], status="completed")

    transcript = await run_scenario(
        find_node(),
        "backend",
        port=server.port,
        key=TEST_APP.key,
        channel_auth_url=f"{api}/broadcasting/auth",
        user_auth_url=f"{api}/broadcasting/user-auth",
        on_ready={"calls": calls},
        extra_env={
            "OPBX_TOKENS": json.dumps(tokens),
            "OPBX_ORG": str(acme.id),
            "OPBX_OTHER_ORG": str(world.globex.id),
        },
    )
    assert transcript.outcome == "done", transcript.describe()
    channel = f"presence-org.{acme.id}"
    for client in ("admin", "agent"):
        names = [name for name, _ in transcript.events(client, channel)]
        assert names == [".call.initiated", ".call.answered", ".call.ended"]
        initiated = transcript.events(client, channel)[0][1]
        assert (initiated["call_id"], initiated["from_number"]) == ("echo-1", "+15550009999")
    here = transcript.of("admin", "here")[0]["members"]
    assert [member["email"] for member in here] == ["admin@acme.example"]
    refused = transcript.of("agent", "subscription_error")
    assert [record["channel"] for record in refused] == [f"presence-org.{world.globex.id}"]
    assert refused[0]["error"]["status"] == 403

"""An API client over the real ASGI app, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from opbx.api.settings import BackendSettings
from opbx.db.engine import Database
from opbx.system import Backend, start_backend
from tests.helpers.broadcasters import RecordingBroadcaster
from tests.helpers.clock import ManualClock
from tests.helpers.openapi_check import check_response_hook
from tests.helpers.world import PASSWORD, World

T0 = 1_800_000_000


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(wall=T0 + 3600)


@pytest.fixture
async def backend(database: Database, world: World, clock: ManualClock) -> AsyncIterator[Backend]:
    backend = await start_backend(
        BackendSettings(), broadcaster=RecordingBroadcaster(), clock=clock, database=database, run_relay=False
    )
    yield backend
    await backend.relay.stop()


@pytest.fixture
async def client(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=backend.api)
    hooks = {"response": [check_response_hook]}  # every answer must match the OpenAPI document
    async with httpx.AsyncClient(transport=transport, base_url="http://opbx.test", event_hooks=hooks) as client:
        yield client


async def token_for(client: httpx.AsyncClient, email: str) -> str:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

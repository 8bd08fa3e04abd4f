"""The broadcasting health check: 503 when a configured dependency is down."""

from __future__ import annotations

import dataclasses

import httpx

from opbx.broadcasting.pusher import PusherBroadcaster
from opbx.system import Backend
from tests.helpers.world import World


async def health(client: httpx.AsyncClient) -> tuple[int, dict[str, object]]:
    response = await client.get("/api/v1/websocket/health")
    return response.status_code, response.json()


async def test_healthy(client: httpx.AsyncClient, world: World) -> None:
    status, body = await health(client)
    assert status == 200
    assert body == {
        "status": "ok",
        "driver": "recording",
        "connections": {"redis": "not configured", "realtime": "ok", "database": "ok"},
        "targets": {"recording": "ok"},
        "outbox": {"depth": 0, "oldest_age_seconds": None, "stalled_organizations": []},
    }


async def test_realtime_down_is_503(client: httpx.AsyncClient, backend: Backend, world: World) -> None:
    context = backend.api.state.context
    nobody_listens = PusherBroadcaster("http://127.0.0.1:1", "1", "key", "secret", timeout=1)
    backend.api.state.context = dataclasses.replace(context, broadcaster=nobody_listens)
    status, body = await health(client)
    await nobody_listens.close()
    assert status == 503
    assert body == {
        "status": "degraded",
        "driver": "pusher",
        "connections": {"redis": "not configured", "realtime": "down", "database": "ok"},
        "targets": {"http://127.0.0.1:1": "down"},
        "outbox": {"depth": 0, "oldest_age_seconds": None, "stalled_organizations": []},
    }


async def test_redis_is_checked_when_configured(
    client: httpx.AsyncClient, backend: Backend, world: World, redis_url: str
) -> None:
    context = backend.api.state.context
    backend.api.state.context = dataclasses.replace(context, redis_url=redis_url)
    status, body = await health(client)
    assert (status, body["connections"]) == (200, {"redis": "ok", "realtime": "ok", "database": "ok"})
    backend.api.state.context = dataclasses.replace(context, redis_url="redis://127.0.0.1:1/0")
    status, body = await health(client)
    assert status == 503
    assert body["connections"]["redis"] == "down"  # type: ignore[index]

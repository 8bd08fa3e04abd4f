"""``/livez`` and ``/readyz`` over real HTTP: only the database makes the API unready.

The database goes down for real: PostgreSQL behind a TCP proxy that is cut, and a server that
accepts connections and never answers. Redis and the realtime side are down for real too:
addresses nothing listens on. Webhook intake goes on without them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from opbx.api import monitoring
from opbx.api.settings import BackendSettings
from opbx.broadcasting.pusher import PusherBroadcaster
from opbx.db.engine import Database
from opbx.telephony.ingest import sign_body
from tests.api.conftest import T0
from tests.api.served import check_declared, served_backend
from tests.helpers.databases import PostgresForTests
from tests.helpers.scrape import scrape_until, value
from tests.helpers.tcp_proxy import TcpProxy
from tests.helpers.world import World, build_world

pytestmark = pytest.mark.integration


async def probe(client: httpx.AsyncClient, path: str) -> tuple[int, object]:
    response = await client.get(path)
    check_declared(response)
    return response.status_code, response.json()


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port: int = probe_socket.getsockname()[1]
    return port


def through(url: str, port: int) -> str:
    """``url`` with its host and port replaced by 127.0.0.1:``port``."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


async def test_live_and_ready_when_the_database_answers(database: Database, world: World) -> None:
    async with served_backend(database) as served, httpx.AsyncClient(base_url=served.url) as client:
        assert await probe(client, "/livez") == (200, {"live": True})
        assert await probe(client, "/readyz") == (200, {"ready": True, "database": "ok"})


@pytest.fixture
async def proxied(postgres: PostgresForTests) -> AsyncIterator[tuple[Database, TcpProxy]]:
    """The session's PostgreSQL database, reached through a proxy that can be cut."""
    await (await postgres.fresh()).dispose()  # migrated and emptied
    upstream = urlsplit(postgres.url)
    proxy = TcpProxy(upstream.hostname or "127.0.0.1", upstream.port or 5432)
    await proxy.start()
    database = Database(through(postgres.url, proxy.port))
    yield database, proxy
    await database.dispose()
    await proxy.close()


async def test_ready_follows_the_database_while_live_stays(proxied: tuple[Database, TcpProxy]) -> None:
    database, proxy = proxied
    async with served_backend(database) as served, httpx.AsyncClient(base_url=served.url) as client:
        assert await probe(client, "/readyz") == (200, {"ready": True, "database": "ok"})
        await proxy.cut()
        assert await probe(client, "/readyz") == (503, {"ready": False, "database": "down"})
        assert await probe(client, "/livez") == (200, {"live": True})
        await proxy.restore()
        assert await probe(client, "/readyz") == (200, {"ready": True, "database": "ok"})


class Silent:
    """A server that accepts connections and never says a word: a database that hangs."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._writers.append(writer)

        self._server = await asyncio.start_server(hold, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


async def test_ready_gives_up_on_a_database_that_hangs(
    postgres: PostgresForTests, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(monitoring, "READY_TIMEOUT", 0.5)  # the deadline, shortened: the test waits it out
    database = await postgres.fresh()
    silent = Silent()
    hanging = Database(through(postgres.url, await silent.start()))
    try:
        async with served_backend(database) as served, httpx.AsyncClient(base_url=served.url) as client:
            context = served.backend.api.state.context
            served.backend.api.state.context = dataclasses.replace(context, database=hanging)
            assert await probe(client, "/readyz") == (503, {"ready": False, "database": "down"})
            assert await probe(client, "/livez") == (200, {"live": True})
    finally:
        await hanging.dispose()
        await silent.close()
        await database.dispose()


async def test_webhooks_are_taken_while_redis_and_the_realtime_side_are_down(database: Database) -> None:
    world = await build_world(database)
    nowhere = f"http://127.0.0.1:{closed_port()}"
    settings = BackendSettings(
        broadcast_driver="pusher", pusher_urls=(nowhere,), redis_url=f"redis://127.0.0.1:{closed_port()}/0"
    )
    broadcaster = PusherBroadcaster(nowhere, "1", "key", "secret", timeout=1)
    async with (
        served_backend(database, settings=settings, broadcaster=broadcaster, run_relay=True) as served,
        httpx.AsyncClient(base_url=served.url) as client,
    ):
        acme = world.acme
        body = json.dumps({"call_id": "down-1", "to": acme.did_numbers[0], "timestamp": T0}).encode()
        answer = await client.post(
            "/webhooks/cloudonix/call-initiated",
            content=body,
            headers={"X-Cloudonix-Signature": sign_body(acme.secret, body)},
        )
        assert (answer.status_code, answer.json()["outcome"]) == (200, "applied")
        assert await probe(client, "/readyz") == (200, {"ready": True, "database": "ok"})
        health = await client.get("/api/v1/websocket/health")
        assert health.status_code == 503
        assert health.json()["connections"] == {"redis": "down", "realtime": "down", "database": "ok"}
        # The event waits in the outbox; the relay keeps trying, and says so in the metrics.
        samples = await scrape_until(served.port, lambda s: value(s, "opbx_api_outbox_stalled_organizations") == 1)
        assert value(samples, "opbx_api_outbox_depth") == 1
        assert value(samples, "opbx_api_relay_failures_total", target=nowhere) >= 1
        assert value(samples, "opbx_api_relay_attempts_total", target=nowhere) == value(
            samples, "opbx_api_relay_failures_total", target=nowhere
        )

"""The production layout, for the dashboard's failover tests: two ``opbx realtime`` nodes over Redis.

Node A is the relay's target: the backend (in this process, ``pusher`` driver with A's URL
only) publishes every call event and every ``sync`` to A's HTTP API, and A hands them to node B
through Redis. Browsers are sent to node B (``ws_port``). Killing A stops delivery while the
page's socket on B stays up: the page has to notice by itself, then catch up once A is back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from opbx.api.settings import BackendSettings
from opbx.demo import DemoOrganization, seed_demo
from opbx.system import Backend, HttpServer, start_backend
from tests.dashboard.stack import DemoProvider
from tests.helpers.apps import TEST_APP
from tests.helpers.nodes import Node
from tests.helpers.redis import REDIS_URL, delete_prefix, unique_prefix


@dataclass
class ProductionStack(DemoProvider):
    relay_target: Node
    """Node A: where the backend publishes."""
    page_node: Node
    """Node B: where browsers connect."""
    backend: Backend
    http: HttpServer
    demo: DemoOrganization
    client: httpx.AsyncClient
    prefix: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.port}/"

    async def close(self) -> None:
        await self.client.aclose()
        await self.http.stop()
        await self.backend.stop()
        for node in (self.relay_target, self.page_node):
            await asyncio.to_thread(node.stop)
        await delete_prefix(self.prefix)

    async def kill_relay_target(self) -> None:
        """SIGKILL node A, as a crashed machine."""
        await asyncio.to_thread(self.relay_target.kill)

    async def restart_relay_target(self) -> None:
        """Node A again, on the same port and Redis prefix (returns once it accepts connections)."""
        await asyncio.to_thread(self.relay_target.start)

    # -- what the API says ------------------------------------------------------------------

    async def get(self, token: str, path: str) -> dict[str, Any]:
        response = await self.client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


async def start_production(directory: Path) -> ProductionStack:
    """Nodes A and B on a Redis prefix of their own, the backend publishing to A, the API and the demo."""
    prefix = unique_prefix()
    relay_target = Node(directory, REDIS_URL, prefix)
    page_node = Node(directory, REDIS_URL, prefix)
    started: list[Node] = []
    try:
        for node in (relay_target, page_node):
            await asyncio.to_thread(node.start)
            started.append(node)
        settings = BackendSettings(
            database_url=f"sqlite:///{directory}/opbx.sqlite3",
            broadcast_driver="pusher",
            pusher_urls=(f"http://127.0.0.1:{relay_target.port}",),
            app=TEST_APP,
            api_host="127.0.0.1",
            api_port=0,
            ws_host="127.0.0.1",
            ws_port=page_node.port,
        )
        backend = await start_backend(settings)
    except BaseException:
        for node in started:
            await asyncio.to_thread(node.stop)
        await delete_prefix(prefix)
        raise
    http = HttpServer(backend.api, "127.0.0.1", 0)
    await http.start()
    demo = await seed_demo(backend.database)
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{http.port}", timeout=30)
    return ProductionStack(relay_target, page_node, backend, http, demo, client, prefix)

"""``opbx serve --demo`` in this process, with a cuttable TCP proxy in front of the realtime server.

The browser learns where the realtime server is from ``/api/v1/realtime/config``, which
advertises the proxy's port: cutting the proxy cuts the dashboard's WebSocket while the API
(and the backend's in-process broadcasts) go on.
"""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from opbx.accounts.passwords import hash_password
from opbx.api.settings import BackendSettings
from opbx.db.models import Extension, User
from opbx.demo import DEMO_PASSWORD, DemoOrganization, seed_demo
from opbx.realtime.config import ServerConfig
from opbx.realtime.server import RealtimeServer
from opbx.system import Backend, HttpServer, start_backend
from opbx.telephony.ingest import sign_body
from tests.helpers.apps import TEST_APP
from tests.helpers.tcp_proxy import TcpProxy

ADMIN_EMAIL = "admin@demo.opbx"
ADMIN_NAME = "Ada Admin"

_callers = itertools.count(1000)


@dataclass
class Posted:
    """A webhook sent: when (wall clock, ms) and what the API answered."""

    call_id: str
    kind: str
    status: str
    sent_ms: float
    answer: dict[str, Any] = field(default_factory=dict)

    @property
    def broadcasts(self) -> int:
        return len(self.answer.get("events", []))


class DemoProvider:
    """The demo organization's provider and sign-in, for any stack with an API ``client`` and its ``demo``."""

    client: httpx.AsyncClient
    demo: DemoOrganization

    async def webhook(self, kind: str, call_id: str, status: str, body: dict[str, Any]) -> Posted:
        """Post a webhook signed with the demo organization's secret; it must be applied."""
        raw = orjson.dumps(body)
        headers = {
            "Content-Type": "application/json",
            "X-Cloudonix-Signature": sign_body(self.demo.webhook_secret, raw),
        }
        posted = Posted(call_id, kind, status, time.time() * 1000)
        response = await self.client.post(
            f"/webhooks/cloudonix/{kind}?org={self.demo.id}", content=raw, headers=headers
        )
        assert response.status_code == 200, response.text
        posted.answer = response.json()
        assert posted.answer["outcome"] == "applied", posted.answer
        return posted

    async def call_initiated(
        self, call_id: str | None = None, *, did: str | None = None, caller: str | None = None, at: float | None = None
    ) -> Posted:
        """A new inbound call to a demo number (the provider's ``call-initiated``); ``at``: epoch seconds."""
        call_id = call_id or f"call-{uuid.uuid4().hex[:12]}"
        to = did or self.demo.dids[1]
        caller = caller or f"+1202555{next(_callers) % 10000:04d}"
        body: dict[str, Any] = {
            "call_id": call_id,
            "from": caller,
            "to": to,
            "did": to,
            "direction": "inbound",
            "status": "initiated",
        }
        if at is not None:
            body["timestamp"] = int(at * 1000)
        return await self.webhook("call-initiated", call_id, "initiated", body)

    async def call_status(self, call_id: str, status: str, **fields: Any) -> Posted:
        """The provider's ``call-status`` for a call: ``answered`` (with ``extension``), ``completed``, …"""
        now = int(time.time() * 1000)
        body: dict[str, Any] = {"callIds": [call_id], "status": status, "modifiedAt": now, **fields}
        if status == "answered":
            body.setdefault("answerTime", now)
        elif status != "ringing":
            body.setdefault("endTime", now)
        return await self.webhook("call-status", call_id, status, body)

    async def login(self, email: str = ADMIN_EMAIL, password: str = DEMO_PASSWORD) -> dict[str, Any]:
        """``POST /api/v1/auth/login``'s answer: token, user, organization."""
        response = await self.client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def token(self, email: str = ADMIN_EMAIL, password: str = DEMO_PASSWORD) -> str:
        token: str = (await self.login(email, password))["token"]
        return token


@dataclass
class DashboardStack(DemoProvider):
    realtime: RealtimeServer
    proxy: TcpProxy
    backend: Backend
    http: HttpServer
    demo: DemoOrganization
    client: httpx.AsyncClient

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.port}/"

    async def close(self) -> None:
        await self.client.aclose()
        await self.http.stop()
        await self.backend.stop()
        await self.proxy.close()
        await self.realtime.stop()

    async def statistics(self, token: str) -> dict[str, Any]:
        response = await self.client.get("/api/v1/call-logs/statistics", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    async def latest_seq(self, token: str) -> int:
        """The organization's latest committed event, as ``GET /call-logs/active`` tells it."""
        response = await self.client.get("/api/v1/call-logs/active", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        seq: int = response.json()["seq"]
        return seq

    async def active_call_ids(self, token: str) -> list[str]:
        response = await self.client.get("/api/v1/call-logs/active", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        return [call["call_id"] for call in response.json()["data"]]

    async def add_user(self, name: str, email: str, password: str, *, extension: str | None = None) -> int:
        """Another member of the demo organization (an agent)."""
        async with self.backend.database.session() as session, session.begin():
            user = User(
                organization_id=self.demo.id,
                name=name,
                email=email,
                role="agent",
                password_hash=hash_password(password),
                created_at=datetime.now(UTC),
            )
            session.add(user)
            await session.flush()
            if extension is not None:
                session.add(Extension(organization_id=self.demo.id, number=extension, user_id=user.id))
            return user.id


async def start_stack(directory: Path) -> DashboardStack:
    realtime = RealtimeServer(
        ServerConfig(host="127.0.0.1", port=0, metrics_port=None, apps=(TEST_APP,), shutdown_grace=1.0)
    )
    await realtime.start()
    proxy = TcpProxy("127.0.0.1", realtime.port)
    await proxy.start()
    settings = BackendSettings(
        database_url=f"sqlite:///{directory}/opbx.sqlite3",
        broadcast_driver="inprocess",
        app=TEST_APP,
        api_host="127.0.0.1",
        api_port=0,
        ws_host="127.0.0.1",
        ws_port=proxy.port,
    )
    backend = await start_backend(settings, realtime=realtime)
    http = HttpServer(backend.api, "127.0.0.1", 0)
    await http.start()
    demo = await seed_demo(backend.database)
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{http.port}", timeout=30)
    return DashboardStack(realtime, proxy, backend, http, demo, client)

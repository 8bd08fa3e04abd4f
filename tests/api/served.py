"""The backend served over real HTTP (uvicorn on an ephemeral port), as ``opbx api`` serves it,
and a check of a root-level operation's answer against the OpenAPI document.

``tests.helpers.openapi_check`` maps every GET outside ``/api/`` and ``/webhooks/`` to the
dashboard's page, so a ``/readyz`` 503 would count as undeclared there:
:func:`check_declared` looks the operation up by its own path instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from opbx.api.settings import BackendSettings
from opbx.broadcasting.base import Broadcaster
from opbx.clock import Clock
from opbx.db.engine import Database
from opbx.system import Backend, HttpServer, start_backend
from tests.helpers.broadcasters import RecordingBroadcaster
from tests.helpers.openapi_check import document


@dataclass(frozen=True)
class Served:
    backend: Backend
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def served_backend(
    database: Database,
    *,
    settings: BackendSettings | None = None,
    broadcaster: Broadcaster | None = None,
    clock: Clock | None = None,
    run_relay: bool = False,
) -> AsyncIterator[Served]:
    """Start the backend on ``database`` and serve its API on 127.0.0.1 (the database is the caller's to dispose)."""
    backend = await start_backend(
        settings or BackendSettings(),
        broadcaster=broadcaster or RecordingBroadcaster(),
        clock=clock,
        database=database,
        run_relay=run_relay,
    )
    http = HttpServer(backend.api, "127.0.0.1", 0)
    try:
        await http.start()
        yield Served(backend, http.port)
    finally:
        await http.stop()
        await backend.relay.stop()
        await backend.broadcaster.close()


def check_declared(response: httpx.Response) -> None:
    """Fail unless the operation of ``response``'s exact path declares its status and its JSON body fits."""
    request = response.request
    operation: dict[str, Any] = document()["paths"][request.url.path][request.method.lower()]
    answer = operation["responses"].get(str(response.status_code))
    assert answer is not None, f"{request.method} {request.url.path}: {response.status_code} is not declared"
    content = answer.get("content", {})
    if "application/json" not in content:
        return
    declared = content["application/json"]["schema"]
    schema = {"$ref": "urn:opbx-openapi#" + declared["$ref"].removeprefix("#")} if "$ref" in declared else declared
    resource: Resource[Any] = DRAFT202012.create_resource(document())
    registry: Registry[Any] = Registry().with_resource("urn:opbx-openapi", resource)
    errors = [error.message for error in Draft202012Validator(schema, registry=registry).iter_errors(response.json())]
    assert errors == [], f"{request.method} {request.url.path} {response.status_code}: {errors}"

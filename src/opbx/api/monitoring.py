"""For orchestrators and Prometheus: ``GET /livez``, ``GET /readyz`` and ``GET /metrics``.

* ``/livez``: 200 while the process serves HTTP at all (restart it when this fails).
* ``/readyz``: 200 when the database answers ``SELECT 1`` within :data:`READY_TIMEOUT`
  seconds, else 503. Only the database: webhook intake keeps working while Redis or the
  realtime side is down (call events wait in the outbox), so neither makes the API unready;
  ``/api/v1/websocket/health`` reports them.
* ``/metrics``: this process's Prometheus metrics (:mod:`opbx.api.metrics`), in the text
  format (OpenMetrics when the scraper asks for it). Keep it inside: deploy/nginx.conf
  refuses it from outside.

None is authenticated; their access lines are logged at debug, not info.
"""

from __future__ import annotations

import asyncio
import logging

from msgspec import Struct
from prometheus_client.exposition import choose_encoder
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response

from opbx.api.context import context_of
from opbx.api.contract import Auth, Operation, json_response

__all__ = ["OPERATIONS", "QUIET_PATHS", "READY_TIMEOUT"]

log = logging.getLogger("opbx.api.monitoring")

READY_TIMEOUT = 2.0
"""Seconds the database has to answer ``/readyz``."""
QUIET_PATHS = frozenset({"/livez", "/readyz", "/metrics"})
"""Asked every few seconds by machines: their access lines are debug, not info."""


class Liveness(Struct, frozen=True, kw_only=True):
    live: bool


class Readiness(Struct, frozen=True, kw_only=True):
    ready: bool
    """Whether to route traffic here: the database answers."""
    database: str
    """ok or down."""


async def livez(request: Request) -> Response:
    return json_response(Liveness(live=True))


async def readyz(request: Request) -> Response:
    database = context_of(request).database
    try:
        async with asyncio.timeout(READY_TIMEOUT), database.reader() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to answer is "not ready"; say which in the log
        log.warning("not ready: the database does not answer (%s)", str(exc).splitlines()[0] if str(exc) else "timeout")
        return json_response(Readiness(ready=False, database="down"), 503)
    return json_response(Readiness(ready=True, database="ok"))


async def metrics(request: Request) -> Response:
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encoder(context_of(request).metrics.registry), media_type=content_type)


OPERATIONS = (
    Operation("GET", "/livez", livez, "Liveness: the process serves HTTP", "Operations", {200: Liveness},
              auth=Auth.NONE),
    Operation("GET", "/readyz", readyz, "Readiness: the database answers (503 when not)", "Operations",
              {200: Readiness, 503: Readiness}, auth=Auth.NONE,
              description="Redis and the realtime side are not checked: webhook intake works without them "
              "(call events wait in the outbox). GET /api/v1/websocket/health reports them."),
    Operation("GET", "/metrics", metrics, "Prometheus metrics of this API process", "Operations", {200: None},
              auth=Auth.NONE, media_type="text/plain",
              description="The Prometheus text format, or OpenMetrics when the Accept header asks for it. "
              "Series: docs/configuration.md. Refused by deploy/nginx.conf: scrape the API's port directly."),
)  # fmt: skip

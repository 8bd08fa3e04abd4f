"""Every API request: its id, its access line and its latency.

* **The request id**: a sane ``X-Request-Id`` from the client (or nginx) is kept, else one
  is made; it is bound for everything the request logs (:mod:`opbx.logs`) and sent back in
  the ``X-Request-Id`` answer header.
* **The access line**: one per request on the ``opbx.access`` logger at info (debug for the
  probes and ``/metrics``): method, path, status, duration, route template, client address
  and request id (JSON fields of their own with ``--log-format json``).
* **The latency**: ``opbx_api_request_duration_seconds{method,route,status}``, labelled by the
  route's template (``/api/v1/users/{user_id}``), never by the raw path.

A pure ASGI middleware (not Starlette's BaseHTTPMiddleware): the handler runs in the
request's own context, so the id reaches every line it causes.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opbx.api.metrics import UNMATCHED_ROUTE, ApiMetrics
from opbx.api.monitoring import QUIET_PATHS
from opbx.logs import bind_request_id, reset_request_id

__all__ = ["REQUEST_ID_HEADER", "RequestObserver", "request_id_from", "route_template"]

REQUEST_ID_HEADER = "X-Request-Id"
_HEADER_KEY = REQUEST_ID_HEADER.lower().encode()
_SANE_ID = re.compile(rb"[A-Za-z0-9._~:/+=@-]{1,128}")
"""What is kept from a client: printable, no spaces or quotes, at most 128 characters."""

access_log = logging.getLogger("opbx.access")


def request_id_from(scope: Scope) -> str:
    """The client's ``X-Request-Id`` when it is sane, else a new one (32 hex digits)."""
    for name, value in scope.get("headers", ()):
        if name == _HEADER_KEY and _SANE_ID.fullmatch(value):
            return str(value.decode("ascii"))
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/api/v1/users/{user_id}``): a bounded label."""
    route = scope.get("route")
    if isinstance(route, Route):
        return route.path
    if isinstance(route, Mount):  # the dashboard's page and assets
        return route.path + "/{path}"
    return UNMATCHED_ROUTE


class RequestObserver:
    """The request id, the access line and the latency of every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        header = (_HEADER_KEY, request_id.encode("ascii"))
        token = bind_request_id(request_id)
        started = time.perf_counter()
        status = 500  # unless an answer starts: an exception escaped and the server answers 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Left bound: the server's own line about this exception carries the id too.
            self._observe(scope, status, time.perf_counter() - started, request_id)
            raise
        self._observe(scope, status, time.perf_counter() - started, request_id)
        reset_request_id(token)

    def _observe(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        route = route_template(scope)
        self.metrics.request(method, route, status, seconds)
        level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
        if not access_log.isEnabledFor(level):
            return
        client = scope.get("client")
        address = client[0] if client else "-"
        duration_ms = round(seconds * 1000, 1)
        access_log.log(
            level,
            "%s %s %d %.1fms route=%s client=%s",
            method,
            path,
            status,
            duration_ms,
            route,
            address,
            extra={
                "method": method,
                "route": route,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
                "client": address,
            },
        )

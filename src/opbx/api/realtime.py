"""``GET /api/v1/realtime/config``: what a browser needs to open its realtime connection."""

from __future__ import annotations

from msgspec import Struct
from starlette.requests import Request
from starlette.responses import Response

from opbx.api.context import context_of
from opbx.api.contract import Auth, Operation, json_response

__all__ = ["OPERATIONS"]


class RealtimeConfig(Struct, frozen=True, kw_only=True):
    """Public: no secret in it."""

    key: str
    """The app key for pusher-js (``new Pusher(key, ...)``)."""
    ws_host: str | None
    ws_port: int
    force_tls: bool
    auth_endpoint: str
    user_auth_endpoint: str


async def realtime_config(request: Request) -> Response:
    context = context_of(request)
    endpoint = context.realtime
    return json_response(
        RealtimeConfig(
            key=context.app.key,
            ws_host=endpoint.host or request.url.hostname,
            ws_port=endpoint.port,
            force_tls=endpoint.tls,
            auth_endpoint="/api/v1/broadcasting/auth",
            user_auth_endpoint="/api/v1/broadcasting/user-auth",
        )
    )


OPERATIONS = (
    Operation("GET", "/api/v1/realtime/config", realtime_config, "Where the realtime server is, for pusher-js",
              "Realtime", {200: RealtimeConfig}, auth=Auth.NONE),
)  # fmt: skip

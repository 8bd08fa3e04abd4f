"""The API as a Starlette application; the handlers live one concept per module."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from opbx.api import auth, broadcasting, calls, health, webhooks
from opbx.api.context import ApiContext, context_of
from opbx.api.errors import ApiProblem, handle_http_exception, handle_problem
from opbx.dashboard import dashboard_routes

__all__ = ["create_api"]


async def realtime_config(request: Request) -> Response:
    """What a browser needs to open its realtime connection (public: no secret in it)."""
    context = context_of(request)
    endpoint = context.realtime
    return JSONResponse(
        {
            "key": context.app.key,
            "ws_host": endpoint.host or request.url.hostname,
            "ws_port": endpoint.port,
            "force_tls": endpoint.tls,
            "auth_endpoint": "/api/v1/broadcasting/auth",
            "user_auth_endpoint": "/api/v1/broadcasting/user-auth",
        }
    )


def create_api(context: ApiContext) -> Starlette:
    v1 = "/api/v1"
    routes = [
        Route(f"{v1}/auth/login", auth.login, methods=["POST"]),
        Route(f"{v1}/auth/logout", auth.logout, methods=["POST"]),
        Route(f"{v1}/auth/me", auth.me, methods=["GET"]),
        Route(f"{v1}/broadcasting/auth", broadcasting.authorize_channel, methods=["POST"]),
        Route(f"{v1}/broadcasting/user-auth", broadcasting.authenticate_user, methods=["POST"]),
        Route(f"{v1}/call-logs/active", calls.active_calls, methods=["GET"]),
        Route(f"{v1}/call-logs/statistics", calls.statistics, methods=["GET"]),
        Route(f"{v1}/call-logs", calls.call_logs, methods=["GET"]),
        Route(f"{v1}/call-logs/{{call_id}}", calls.call_detail, methods=["GET"]),
        Route(f"{v1}/websocket/health", health.websocket_health, methods=["GET"]),
        Route(f"{v1}/realtime/config", realtime_config, methods=["GET"]),
        Route(
            "/webhooks/cloudonix/{kind:str}",
            webhooks.receive_webhook,
            methods=["POST"],
        ),
        *dashboard_routes(),
    ]
    api = Starlette(
        routes=routes,
        exception_handlers={ApiProblem: handle_problem, HTTPException: handle_http_exception},
    )
    api.state.context = context
    return api

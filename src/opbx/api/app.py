"""The API as a Starlette application, its routes built from the handler modules' declared
operations (:mod:`opbx.api.contract`), the same declarations the OpenAPI document describes.

Every request passes :class:`~opbx.api.access.RequestObserver` first: its id, its access
line and its latency."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from opbx.api import (
    auth,
    broadcasting,
    calls,
    dids,
    extension_status,
    extensions,
    health,
    monitoring,
    organization,
    realtime,
    users,
    webhooks,
)
from opbx.api.access import RequestObserver
from opbx.api.auth import require_user
from opbx.api.context import ApiContext
from opbx.api.contract import Auth, Endpoint, Operation
from opbx.api.errors import ApiProblem, handle_http_exception, handle_problem
from opbx.api.inputs import handle_client_disconnect
from opbx.api.reference import reference_operations
from opbx.dashboard import dashboard_routes
from opbx.logs import install_request_ids

__all__ = ["DASHBOARD", "api_operations", "create_api"]


async def dashboard(request: Request) -> Response:
    """Documents the page the dashboard's mount serves at ``/`` (this function is never routed)."""
    raise HTTPException(404)


DASHBOARD = Operation("GET", "/", dashboard, "The live dashboard (HTML); its own paths serve the same page",
                      "Dashboard", {200: None}, auth=Auth.NONE, errors=(404,), media_type="text/html")  # fmt: skip


def api_operations() -> tuple[Operation, ...]:
    """Every JSON operation, in routing order (fixed paths before the ``{id}`` ones beside them)."""
    return (
        *auth.OPERATIONS,
        *broadcasting.OPERATIONS,
        *realtime.OPERATIONS,
        *calls.OPERATIONS,
        *organization.OPERATIONS,
        *users.OPERATIONS,
        *extension_status.OPERATIONS,  # /extensions/status before /extensions/{extension_id}
        *extensions.OPERATIONS,
        *dids.OPERATIONS,
        *health.OPERATIONS,
        *webhooks.OPERATIONS,
        *monitoring.OPERATIONS,
    )


def _signed_in_first(operation: Operation) -> Endpoint:
    """A bearer route checks the token before anything else: no body or id is read for a stranger."""
    if operation.auth is not Auth.BEARER:
        return operation.endpoint
    endpoint = operation.endpoint

    async def guarded(request: Request) -> Response:
        await require_user(request)
        return await endpoint(request)

    guarded.__name__ = endpoint.__name__
    return guarded


def create_api(context: ApiContext) -> Starlette:
    operations = api_operations()
    described = (*operations, DASHBOARD)
    # Routes match in order: the provider's webhooks, the busiest by far, are tried first.
    busiest_first = sorted(operations, key=lambda operation: operation.auth is not Auth.WEBHOOK)
    routes: list[BaseRoute] = [
        Route(operation.path, _signed_in_first(operation), methods=[operation.method])
        for operation in (*busiest_first, *reference_operations(described))
    ]
    install_request_ids()  # the lines a request causes carry its id, whoever logs them
    api = Starlette(
        routes=[*routes, *dashboard_routes()],
        middleware=[Middleware(RequestObserver, metrics=context.metrics)],
        exception_handlers={
            ApiProblem: handle_problem,
            HTTPException: handle_http_exception,
            ClientDisconnect: handle_client_disconnect,
        },
    )
    api.state.context = context
    return api

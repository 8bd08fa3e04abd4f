"""The call log over REST, scoped to the caller's organization.

``GET /call-logs/active`` is the dashboard's polling fallback and its resync after a
reconnect: the active calls with the server's time, so durations tick from the server's
timestamps, not the browser's clock.
"""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from opbx.api.auth import require_user
from opbx.api.context import context_of
from opbx.api.errors import ApiProblem
from opbx.telephony.events import iso8601
from opbx.telephony.queries import CallFilters, CallQueries
from opbx.telephony.states import CallState

__all__ = ["active_calls", "call_detail", "call_logs", "statistics"]


async def active_calls(request: Request) -> Response:
    authenticated = await require_user(request)
    context = context_of(request)
    async with context.database.session() as session:
        calls = await CallQueries(session, authenticated.user.organization_id).active()
    return JSONResponse({"data": calls, "server_time": iso8601(context.now())})


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiProblem(422, f"'{name}' must be a whole number from {low} to {high}")
    return int(raw)


def _date(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiProblem(422, f"'{name}' must be a date like 2026-11-26") from None


def _filters(request: Request) -> CallFilters:
    status = request.query_params.get("status") or None
    if status is not None and status not in {state.value for state in CallState}:
        raise ApiProblem(422, f"'status' must be one of {', '.join(state.value for state in CallState)}")
    direction = request.query_params.get("direction") or None
    if direction is not None and direction not in ("inbound", "outbound"):
        raise ApiProblem(422, "'direction' must be inbound or outbound")
    extension = request.query_params.get("extension_id")
    return CallFilters(
        status=status,
        direction=direction,
        since=_date(request, "from"),
        until=_date(request, "to"),
        number=(request.query_params.get("search") or None),
        extension_id=_int(request, "extension_id", 0, 1, 2**31) if extension else None,
        page=_int(request, "page", 1, 1, 1_000_000),
        per_page=_int(request, "per_page", 25, 1, 100),
    )


async def call_logs(request: Request) -> Response:
    authenticated = await require_user(request)
    filters = _filters(request)
    async with context_of(request).database.session() as session:
        page = await CallQueries(session, authenticated.user.organization_id).page(filters)
    return JSONResponse(page)


async def call_detail(request: Request) -> Response:
    authenticated = await require_user(request)
    call_id = request.path_params["call_id"]
    async with context_of(request).database.session() as session:
        detail = await CallQueries(session, authenticated.user.organization_id).detail(call_id)
    if detail is None:
        raise ApiProblem(404, "No such call in your organization")
    return JSONResponse({"data": detail})


async def statistics(request: Request) -> Response:
    authenticated = await require_user(request)
    context = context_of(request)
    now = context.now()
    async with context.database.session() as session:
        stats = await CallQueries(session, authenticated.user.organization_id).statistics(now)
    return JSONResponse({"data": stats, "server_time": iso8601(now)})

"""The call log over REST, scoped to the caller's organization.

``GET /call-logs/active`` is the dashboard's polling fallback and its resync after a
reconnect: the active calls with the server's time, so durations tick from the server's
timestamps, not the browser's clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from msgspec import Meta, Struct
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from opbx.api.auth import require_user
from opbx.api.context import context_of
from opbx.api.contract import ID_SCHEMA, Operation, Parameter
from opbx.api.errors import ApiProblem
from opbx.api.inputs import query_int
from opbx.parsing import MAX_RECORD_ID, parse_day
from opbx.telephony.events import iso8601
from opbx.telephony.queries import CallFilters, CallQueries
from opbx.telephony.states import CallState

__all__ = ["OPERATIONS"]


class Did(Struct, frozen=True):
    id: int
    phone_number: str


class ExtensionNumber(Struct, frozen=True):
    id: int
    number: str


class AnsweredBy(Struct, frozen=True):
    id: int
    name: str
    extension_number: str


class Call(Struct, frozen=True, kw_only=True):
    """A call of the call log (times: UTC, ISO 8601 with milliseconds)."""

    id: int
    call_id: str
    direction: str
    from_number: str
    to_number: str
    did_id: int | None
    did: Did | None
    extension_id: int | None
    answered_by: AnsweredBy | None
    extension: ExtensionNumber | None
    status: str
    """initiated, ringing, answered, completed, busy, no_answer or failed."""
    initiated_at: str
    ringing_at: str | None
    """When the provider reported it ringing (None when no ringing report came)."""
    answered_at: str | None
    ended_at: str | None
    duration: int | None
    """Seconds of conversation, once the call has ended."""
    recording_url: str | None


class ProviderRecord(Struct, frozen=True):
    kind: str
    received_at: str
    body: dict[str, Any]
    """The webhook body, verbatim."""


class Step(Struct, frozen=True):
    status: CallState
    at: str


class CallDetail(Call, frozen=True, kw_only=True):
    timeline: list[Step]
    """Each state the call entered, in order: initiated, ringing and answered if so, then its final state."""
    provider_records: list[ProviderRecord]


class ActiveCalls(Struct, frozen=True):
    data: list[Call]
    """Oldest first."""
    server_time: str
    """Tick durations from this, not from the browser's clock."""
    seq: int
    """The organization's latest event this snapshot reflects: apply only events with a higher seq."""


class PageMeta(Struct, frozen=True):
    page: int
    per_page: int
    total: int
    last_page: int


class CallPage(Struct, frozen=True):
    data: list[Call]
    """Newest first."""
    meta: PageMeta


class OneCall(Struct, frozen=True):
    data: CallDetail


class HourCounts(Struct, frozen=True):
    hour: Annotated[int, Meta(ge=0, le=23)]
    """The UTC hour the calls began in."""
    total: int
    answered: int
    missed: int


class AnswerBucket(Struct, frozen=True):
    le: int | None
    """Upper bound in seconds (inclusive; the previous bucket's bound exclusive); null: longer than 60."""
    count: int


class Statistics(Struct, frozen=True):
    date: str
    total: int
    active: int
    answered: int
    missed: int
    """Ended no_answer, busy or failed without an answer."""
    average_duration: int
    longest_wait: int
    """Seconds from ringing to answer (or to hang-up, or to now) of today's longest."""
    per_hour: list[HourCounts]
    """24 entries, hours 0 to 23 (UTC) of today, by the hour each call began."""
    time_to_answer: list[AnswerBucket]
    """Today's answered calls by seconds from start to answer: le 5, 10, 20, 30, 60, then null."""


class TodaysStatistics(Struct, frozen=True):
    data: Statistics
    server_time: str


async def active_calls(request: Request) -> Response:
    authenticated = await require_user(request)
    context = context_of(request)
    async with context.database.reader() as session:
        queries = CallQueries(session, authenticated.user.organization_id)
        # The seq first: the calls then reflect at least it, and events after it replay harmlessly.
        seq = await queries.seq()
        calls = await queries.active()
    return JSONResponse({"data": calls, "server_time": iso8601(context.now()), "seq": seq})


_MAX_SEARCH = 64
"""Characters of a number search: more than any phone number has, and bounded before SQL."""


def _date(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return parse_day(raw)
    except ValueError as exc:
        raise ApiProblem(422, f"'{name}': {exc}") from None


def _search(request: Request) -> str | None:
    raw = request.query_params.get("search") or None
    if raw is not None and (len(raw) > _MAX_SEARCH or not raw.isprintable()):
        raise ApiProblem(422, f"'search' must be at most {_MAX_SEARCH} printable characters")
    return raw


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
        number=_search(request),
        extension_id=query_int(request, "extension_id", 0, 1, MAX_RECORD_ID) if extension else None,
        page=query_int(request, "page", 1, 1, 1_000_000),
        per_page=query_int(request, "per_page", 25, 1, 100),
    )


async def call_logs(request: Request) -> Response:
    authenticated = await require_user(request)
    filters = _filters(request)
    async with context_of(request).database.reader() as session:
        page = await CallQueries(session, authenticated.user.organization_id).page(filters)
    return JSONResponse(page)


async def call_detail(request: Request) -> Response:
    authenticated = await require_user(request)
    call_id: str = request.path_params["call_id"]
    if len(call_id) > 128 or not call_id.isprintable():  # no call has such an id: not worth a query
        raise ApiProblem(404, "No such call in your organization")
    async with context_of(request).database.reader() as session:
        detail = await CallQueries(session, authenticated.user.organization_id).detail(call_id)
    if detail is None:
        raise ApiProblem(404, "No such call in your organization")
    return JSONResponse({"data": detail})


async def statistics(request: Request) -> Response:
    authenticated = await require_user(request)
    context = context_of(request)
    now = context.now()
    async with context.database.reader() as session:
        stats = await CallQueries(session, authenticated.user.organization_id).statistics(now)
    return JSONResponse({"data": stats, "server_time": iso8601(now)})


def _query(name: str, schema: Mapping[str, Any], description: str) -> Parameter:
    return Parameter(name, "query", schema, description)


_FILTERS = (
    _query("status", {"type": "string", "enum": [state.value for state in CallState]}, "Only calls in this state."),
    _query("direction", {"type": "string", "enum": ["inbound", "outbound"]}, "Only calls in this direction."),
    _query("from", {"type": "string", "format": "date"}, "Calls begun on or after this day (UTC)."),
    _query("to", {"type": "string", "format": "date"}, "Calls begun on or before this day (UTC)."),
    _query("search", {"type": "string", "maxLength": _MAX_SEARCH}, "Part of the caller's or the dialled number."),
    _query("extension_id", ID_SCHEMA, "Only calls of this extension."),
    _query("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, "Page, from 1."),
    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Calls a page (default 25)."),
)

OPERATIONS = (
    Operation("GET", "/api/v1/call-logs/active", active_calls, "The active calls (the dashboard's snapshot)",
              "Calls", {200: ActiveCalls}),
    Operation("GET", "/api/v1/call-logs/statistics", statistics, "Today's figures (UTC)", "Calls",
              {200: TodaysStatistics}),
    Operation("GET", "/api/v1/call-logs", call_logs, "The call log, filtered and paginated", "Calls",
              {200: CallPage}, parameters=_FILTERS, errors=(422,)),
    Operation("GET", "/api/v1/call-logs/{call_id}", call_detail, "One call, with every provider record", "Calls",
              {200: OneCall}, parameters=(Parameter("call_id", "path", {"type": "string"},
                                                    "The provider's call id.", required=True),)),
)  # fmt: skip

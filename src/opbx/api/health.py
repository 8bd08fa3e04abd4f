"""``GET /websocket/health``: is broadcasting going to work? 503 when a dependency is down."""

from __future__ import annotations

import asyncio

from msgspec import Struct
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response

from opbx.api.context import ApiContext, context_of
from opbx.api.contract import Auth, Operation, json_response
from opbx.broadcasting.relay import Backlog

__all__ = ["OPERATIONS"]


class Connections(Struct, frozen=True, kw_only=True):
    """Each: ok, down, not configured or not applicable."""

    redis: str
    realtime: str
    database: str


class Outbox(Struct, frozen=True, kw_only=True):
    """Call events committed and not yet delivered to the realtime side."""

    depth: int
    oldest_age_seconds: float | None
    stalled_organizations: list[int]
    """Organizations whose delivery is failing now."""


class Health(Struct, frozen=True, kw_only=True):
    status: str
    """ok, or degraded when a configured connection is down."""
    driver: str
    """The broadcast driver: inprocess, pusher, log or null."""
    connections: Connections
    targets: dict[str, str]
    """Where call events go, each ok or down: the pusher driver's URLs, or inprocess (none for log and null)."""
    outbox: Outbox


_TIMEOUT = 2.0


async def _database(context: ApiContext) -> str:
    try:
        async with asyncio.timeout(_TIMEOUT), context.database.reader() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        return "down"
    return "ok"


async def _redis(context: ApiContext) -> str:
    if not context.redis_url:
        return "not configured"
    from opbx.api.redis_ping import ping

    try:
        async with asyncio.timeout(_TIMEOUT):
            answered = await ping(context.redis_url)
    except TimeoutError:
        answered = False
    return "ok" if answered else "down"


async def _realtime(context: ApiContext) -> str:
    try:
        async with asyncio.timeout(_TIMEOUT):
            healthy = await context.broadcaster.healthy()
    except TimeoutError:
        healthy = False
    return "not applicable" if healthy is None else "ok" if healthy else "down"


async def websocket_health(request: Request) -> Response:
    context = context_of(request)
    database, redis, realtime = await asyncio.gather(_database(context), _redis(context), _realtime(context))
    down = "down" in (database, redis, realtime)
    connections = Connections(redis=redis, realtime=realtime, database=database)
    backlog = await _backlog(context)
    health = Health(
        status="degraded" if down else "ok",
        driver=context.broadcaster.name,
        connections=connections,
        targets=await _targets(context),
        outbox=Outbox(
            depth=backlog.depth,
            oldest_age_seconds=None if backlog.oldest_age is None else round(backlog.oldest_age, 3),
            stalled_organizations=list(backlog.stalled),
        ),
    )
    return json_response(health, 503 if down else 200)


async def _backlog(context: ApiContext) -> Backlog:
    try:
        async with asyncio.timeout(_TIMEOUT):
            return await context.relay.measure_backlog()
    except Exception:  # the database is down: the connections say so; the last measure stands
        return context.relay.backlog


async def _targets(context: ApiContext) -> dict[str, str]:
    try:
        async with asyncio.timeout(_TIMEOUT):
            answers = await context.broadcaster.target_health()
    except TimeoutError:
        return {}
    return {target: "ok" if up else "down" for target, up in answers.items()}


OPERATIONS = (
    Operation("GET", "/api/v1/websocket/health", websocket_health, "Will broadcasting work? (503 when not)",
              "Health", {200: Health, 503: Health}, auth=Auth.NONE),
)  # fmt: skip

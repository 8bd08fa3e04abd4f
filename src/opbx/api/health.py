"""``GET /websocket/health``: is broadcasting going to work? 503 when a dependency is down."""

from __future__ import annotations

import asyncio

from msgspec import Struct
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response

from opbx.api.context import ApiContext, context_of
from opbx.api.contract import Auth, Operation, json_response

__all__ = ["OPERATIONS"]


class Connections(Struct, frozen=True, kw_only=True):
    """Each: ok, down, not configured or not applicable."""

    redis: str
    realtime: str
    database: str


class Health(Struct, frozen=True, kw_only=True):
    status: str
    """ok, or degraded when a configured connection is down."""
    driver: str
    """The broadcast driver: inprocess, pusher, log or null."""
    connections: Connections


_TIMEOUT = 2.0


async def _database(context: ApiContext) -> str:
    try:
        async with asyncio.timeout(_TIMEOUT), context.database.session() as session:
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
    health = Health(status="degraded" if down else "ok", driver=context.broadcaster.name, connections=connections)
    return json_response(health, 503 if down else 200)


OPERATIONS = (
    Operation("GET", "/api/v1/websocket/health", websocket_health, "Will broadcasting work? (503 when not)",
              "Health", {200: Health, 503: Health}, auth=Auth.NONE),
)  # fmt: skip

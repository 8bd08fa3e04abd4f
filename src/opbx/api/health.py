"""``GET /websocket/health``: is broadcasting going to work? 503 when a dependency is down."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from opbx.api.context import ApiContext, context_of

__all__ = ["websocket_health"]

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
    connections = {"redis": redis, "realtime": realtime, "database": database}
    down = [name for name, state in connections.items() if state == "down"]
    return JSONResponse(
        {"status": "degraded" if down else "ok", "driver": context.broadcaster.name, "connections": connections},
        status_code=503 if down else 200,
    )

"""Wiring the parts into running processes: the backend, and the whole system in one process.

``opbx serve`` (embedded): the realtime server, the API and the outbox relay share one
event loop; call events go to the realtime server in-process. ``opbx api``: the backend
alone, publishing to a separate realtime server over its HTTP API (the production layout).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from opbx.api.app import create_api
from opbx.api.context import ApiContext, RealtimeEndpoint
from opbx.api.settings import BackendSettings
from opbx.broadcasting.base import Broadcaster
from opbx.broadcasting.inprocess import InProcessBroadcaster
from opbx.broadcasting.log import LogBroadcaster, NullBroadcaster
from opbx.broadcasting.pusher import PusherBroadcaster
from opbx.broadcasting.relay import OutboxRelay
from opbx.clock import Clock, SystemClock
from opbx.db.engine import Database
from opbx.realtime.server import RealtimeServer
from opbx.telephony.service import CallService

__all__ = ["Backend", "HttpServer", "make_broadcaster", "start_backend"]

log = logging.getLogger("opbx")


def make_broadcaster(settings: BackendSettings, realtime: RealtimeServer | None = None) -> Broadcaster:
    driver = settings.broadcast_driver
    if driver == "inprocess":
        if realtime is None:
            raise ValueError("the inprocess broadcaster needs the realtime server in this process (opbx serve)")
        app = realtime.apps.by_id(settings.app.id)
        if app is None:
            raise ValueError(f"the realtime server has no app {settings.app.id!r} to broadcast to")
        return InProcessBroadcaster(realtime, app)
    if driver == "pusher":
        return PusherBroadcaster(settings.pusher_url, settings.app.id, settings.app.key, settings.app.secret)
    if driver == "log":
        return LogBroadcaster()
    return NullBroadcaster()


@dataclass
class Backend:
    """The call-presence backend, started: its API is an ASGI app ready to be served."""

    settings: BackendSettings
    database: Database
    broadcaster: Broadcaster
    relay: OutboxRelay
    service: CallService
    api: Starlette

    async def stop(self) -> None:
        await self.relay.stop()
        await self.broadcaster.close()
        await self.database.dispose()


async def start_backend(
    settings: BackendSettings,
    *,
    realtime: RealtimeServer | None = None,
    broadcaster: Broadcaster | None = None,
    clock: Clock | None = None,
    database: Database | None = None,
    run_relay: bool = True,
) -> Backend:
    """Migrate the database and start the relay; return the backend with its API."""
    clock = clock or SystemClock()
    database = database or Database(settings.database_url)
    await database.migrate()
    broadcaster = broadcaster or make_broadcaster(settings, realtime)
    relay = OutboxRelay(database, broadcaster, clock=clock)
    service = CallService(database, clock=clock, on_commit=relay.wake)
    context = ApiContext(
        database=database,
        service=service,
        broadcaster=broadcaster,
        app=settings.app,
        realtime=RealtimeEndpoint(settings.ws_host, settings.ws_port, settings.ws_tls),
        clock=clock,
        redis_url=settings.redis_url,
    )
    if run_relay:
        relay.start()
    return Backend(settings, database, broadcaster, relay, service, create_api(context))


class _QuietSignals(uvicorn.Server):
    """Uvicorn inside our process: the process owns the signal handlers, not uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class HttpServer:
    """An ASGI app served by uvicorn on the running event loop."""

    def __init__(self, app: Starlette, host: str, port: int, *, log_level: str = "warning") -> None:
        config = uvicorn.Config(app, host=host, port=port, lifespan="off", log_level=log_level, access_log=False)
        self._server = _QuietSignals(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()  # start-up failed: raise its error
            await asyncio.sleep(0.01)

    @property
    def port(self) -> int:
        servers = self._server.servers
        port: int = servers[0].sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task

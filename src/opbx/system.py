"""Wiring the parts into running processes: the backend, and the whole system in one process.

``opbx serve`` (embedded): the realtime server, the API and the outbox relay share one
event loop; call events go to the realtime server in-process. ``opbx api``: the backend
alone, publishing to a separate realtime server over its HTTP API (the production layout).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
from collections.abc import Generator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from opbx.accounts.throttle import SignInThrottle
from opbx.api.app import create_api
from opbx.api.context import ApiContext, RealtimeEndpoint
from opbx.api.metrics import ApiMetrics
from opbx.api.settings import BackendSettings
from opbx.broadcasting.base import Broadcaster
from opbx.broadcasting.inprocess import InProcessBroadcaster
from opbx.broadcasting.log import LogBroadcaster, NullBroadcaster
from opbx.broadcasting.pusher import PusherBroadcaster
from opbx.broadcasting.relay import OutboxRelay
from opbx.clock import Clock, SystemClock
from opbx.configuration import StartupError, port_in_use
from opbx.db.engine import Database
from opbx.realtime.config import ServerConfig
from opbx.realtime.server import RealtimeServer
from opbx.telephony.service import CallService

__all__ = [
    "Backend",
    "Embedded",
    "HttpServer",
    "listen",
    "make_broadcaster",
    "start_backend",
    "start_embedded",
]

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
        return PusherBroadcaster(settings.pusher_urls, settings.app.id, settings.app.key, settings.app.secret)
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
    service = CallService(database, clock=clock, on_commit=relay.committed, leads=lambda: relay.leadership.leads)
    context = ApiContext(
        database=database,
        service=service,
        broadcaster=broadcaster,
        app=settings.app,
        realtime=RealtimeEndpoint(settings.ws_host, settings.ws_port, settings.ws_tls),
        clock=clock,
        relay=relay,
        throttle=SignInThrottle(database, clock),
        redis_url=settings.redis_url,
        metrics=ApiMetrics(database, relay, broadcaster, service.times),
    )
    if run_relay:
        relay.start()
    return Backend(settings, database, broadcaster, relay, service, create_api(context))


class _QuietSignals(uvicorn.Server):
    """Uvicorn inside our process: the process owns the signal handlers, not uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def listen(host: str, port: int, setting: str = "OPBX_API_HOST / OPBX_API_PORT") -> socket.socket:
    """A bound socket for uvicorn, so a taken port is a StartupError here, not uvicorn's exit."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise StartupError(f"{setting}: cannot listen on {host!r} ({exc.strerror})") from None
    listener = socket.socket(family, kind, protocol)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
    except OSError as exc:
        listener.close()
        raise port_in_use(exc, host, port, setting) or StartupError(
            f"{setting}: cannot listen on {host}:{port} ({exc.strerror})"
        ) from None
    listener.set_inheritable(True)
    return listener


class HttpServer:
    """An ASGI app served by uvicorn on the running event loop."""

    def __init__(
        self,
        app: Starlette,
        host: str,
        port: int,
        *,
        log_level: str = "warning",
        listener: socket.socket | None = None,
    ) -> None:
        """Serve ``app`` on ``host:port``, or on ``listener`` when the port was bound beforehand.

        Uvicorn's own lines go through the process's logging, in its format (``log_config=None``);
        the API logs its access lines itself (:mod:`opbx.api.access`).
        """
        config = uvicorn.Config(
            app, host=host, port=port, lifespan="off", log_level=log_level, access_log=False, log_config=None
        )
        self._server = _QuietSignals(config)
        self._task: asyncio.Task[None] | None = None
        self._host, self._port = host, port
        self._listener = listener

    async def start(self) -> None:
        if self._listener is None:
            self._listener = listen(self._host, self._port)
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[self._listener]))
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


@dataclass
class Embedded:
    """``opbx serve``: the realtime server, the backend and its HTTP server in one process."""

    realtime: RealtimeServer
    backend: Backend
    http: HttpServer

    async def stop(self) -> None:
        """Stop the API first, then the realtime server within its grace period."""
        await self.http.stop()
        await self.backend.stop()
        await self.realtime.stop_within_grace()


async def start_embedded(config: ServerConfig, settings: BackendSettings, *, advertise_port: bool = True) -> Embedded:
    """Start the whole system; unless ``advertise_port`` is off, browsers are sent to the realtime port bound."""
    listener = listen(settings.api_host, settings.api_port)
    realtime = RealtimeServer(config)
    try:
        await realtime.start()
    except BaseException:
        listener.close()
        raise
    try:
        if advertise_port:
            settings = dataclasses.replace(settings, ws_port=realtime.port)
        backend = await start_backend(settings, realtime=realtime)
        try:
            http = HttpServer(backend.api, settings.api_host, settings.api_port, listener=listener)
            await http.start()
        except BaseException:
            await backend.stop()
            raise
    except BaseException:
        listener.close()
        await realtime.stop()
        raise
    return Embedded(realtime, backend, http)

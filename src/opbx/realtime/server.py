"""The realtime server: the composition root, its start and stop, and the listener.

It builds the parts and wires them through the small protocols each declares, so none
of them imports it:

* :func:`~opbx.realtime.handshake.accept` decides each WebSocket upgrade (sans I/O);
* :class:`~opbx.realtime.dispatch.Dispatcher` carries out each connection's steps;
* :class:`~opbx.realtime.membership.Membership` holds the join, leave, sign-in and
  release rules over the adapter;
* :class:`~opbx.realtime.node.Node` is the adapter's handler (``deliver``, the fan-out)
  and publishes the HTTP API's events;
* :class:`~opbx.realtime.rest_api.HttpApi` and :class:`~opbx.realtime.metrics.ServerMetrics`
  read it as their ``ApiBackend`` and ``MetricsSource``.

See ``docs/architecture.md`` for the picture.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Mapping
from typing import Any

from opbx.adapters.base import Adapter
from opbx.clock import Clock, SystemClock
from opbx.configuration import port_in_use
from opbx.protocol.app import App, AppId
from opbx.protocol.errors import PusherError, ReconnectNow
from opbx.protocol.rest import Trigger
from opbx.protocol.session import Session, new_socket_id
from opbx.realtime.apps import AppRegistry
from opbx.realtime.assembly import adapter_for, webhooks_for
from opbx.realtime.config import ServerConfig
from opbx.realtime.connection import Lingering, Open, WebSocketConnection
from opbx.realtime.dispatch import Dispatcher
from opbx.realtime.fanout import WriteCoalescer
from opbx.realtime.handshake import Refusal, accept
from opbx.realtime.http import HttpProtocol, HttpRequest
from opbx.realtime.membership import Membership
from opbx.realtime.metrics import ServerMetrics
from opbx.realtime.namespace import Namespace
from opbx.realtime.node import Node
from opbx.realtime.rest_api import HttpApi
from opbx.realtime.tls import server_ssl_context
from opbx.realtime.webhook_sink import WebhookSink

__all__ = ["RealtimeServer"]

log = logging.getLogger("opbx.realtime")

_HEARTBEAT_INTERVAL = 5.0


class RealtimeServer:
    """A Pusher Channels protocol v7 server."""

    def __init__(self, config: ServerConfig, *, adapter: Adapter | None = None, clock: Clock | None = None) -> None:
        self.config = config
        self.apps = AppRegistry(config.apps)
        self.clock: Clock = clock or SystemClock()
        self.adapter: Adapter = adapter if adapter is not None else adapter_for(config)
        self.webhooks: WebhookSink = webhooks_for(config, self.adapter)
        """Where cluster-wide transitions are reported to the apps' webhook URLs."""
        self._namespaces: dict[AppId, Namespace[WebSocketConnection]] = {app.id: Namespace(app) for app in self.apps}
        self.membership = Membership(self._namespaces, self.adapter, self.webhooks)
        self.dispatcher = Dispatcher(self.membership, self.clock, self._spawn)
        self.node: Node[WebSocketConnection]
        """The adapter's handler and the publisher; built by :meth:`start`, on the running loop."""
        self.metrics = ServerMetrics(self)
        self.api = HttpApi(self)
        self._http_connections: set[HttpProtocol] = set()
        self.lingering = Lingering()
        """WebSocket connections this server closed, waiting for their clients to answer."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._max_body_bytes = max(app.limits.max_request_body_bytes for app in self.apps)
        self._stopping_since = 0.0
        self._sockets_closed = 0
        """WebSocket connections told to reconnect (4200) by the shutdown: logged when it ends."""

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Start the adapter, listen, and start the heartbeat."""
        loop = asyncio.get_running_loop()
        config = self.config
        self.node = Node(
            self.apps,
            self._namespaces,
            self.adapter,
            self.webhooks,
            WriteCoalescer(loop),
            written=self.metrics.publish_written,
            spawn=self._spawn,
            cache_ttl=config.cache_ttl,
        )
        await self.adapter.start(self.node)
        await self.webhooks.start()
        tls = server_ssl_context(config.ssl_cert, config.ssl_key) if config.ssl_cert and config.ssl_key else None
        try:
            self._listener = await loop.create_server(
                lambda: HttpProtocol(self.api.handle, self.upgrade, self._max_body_bytes, self._http_connections),
                config.host,
                config.port,
                backlog=4096,
                reuse_address=True,
                reuse_port=config.reuse_port or None,
                ssl=tls,
            )
        except OSError as exc:
            await self.webhooks.stop(0)
            await self.adapter.close()
            refusal = port_in_use(exc, config.host, config.port, "--port (or server.port)")
            if refusal is None:
                raise
            raise refusal from None
        self._sweeper = loop.create_task(self._sweep_forever())
        log.info("realtime server listening on %s:%d%s", config.host, self.port, " (TLS)" if tls else "")
        if config.metrics_port is not None:
            await self.metrics.start(config.metrics_host or config.host, config.metrics_port)

    async def stop_within_grace(self) -> None:
        """:meth:`stop`, cut short at ``shutdown_grace``: what is still pending then is dropped."""
        try:
            await asyncio.wait_for(self.stop(), self.config.shutdown_grace)
        except TimeoutError:
            log.warning("shutdown took longer than shutdown_grace (%gs); exiting anyway", self.config.shutdown_grace)

    def begin_shutdown(self) -> None:
        """Take no more traffic: ``/ready`` answers 503, the port closes, every client gets 4200."""
        if self.membership.closing:
            return
        self.membership.closing = True
        self._stopping_since = time.monotonic()
        if self._listener is not None:
            self._listener.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        connections = list(self.membership.connected())
        self._sockets_closed = len(connections)
        log.info(
            "shutting down: closing %d WebSocket connections with 4200 (reconnect now)",
            len(connections),
            extra={"sockets": len(connections)},
        )
        for connection in connections:
            connection.fail(ReconnectNow("Server is shutting down"))

    async def stop(self) -> None:
        """Shut down (:meth:`begin_shutdown`), finish pending work within the grace, release cluster state."""
        self.begin_shutdown()
        # Most of the grace for the releases and the webhooks they cause; the rest for closing.
        budget = 0.9 * self.config.shutdown_grace
        deadline = time.monotonic() + budget
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=budget)
        await self.webhooks.stop(max(0.0, deadline - time.monotonic()))
        await self.lingering.end(max(0.0, deadline - time.monotonic()))
        for http in list(self._http_connections):
            http.close()
        await self.adapter.close()
        await self.metrics.stop()
        elapsed = time.monotonic() - self._stopping_since
        log.info(
            "shutdown finished in %.2fs: %d WebSocket connections closed",
            elapsed,
            self._sockets_closed,
            extra={"sockets": self._sockets_closed, "seconds": round(elapsed, 3)},
        )

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` as a task :meth:`stop` waits for."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- what the HTTP API and the metrics read (ApiBackend, MetricsSource) ---------------

    @property
    def port(self) -> int:
        """The port actually bound (useful when configured as 0)."""
        assert self._listener is not None
        assert self._listener.sockets
        port: int = self._listener.sockets[0].getsockname()[1]
        return port

    @property
    def metrics_port(self) -> int | None:
        """The metrics port bound, or None when there is no metrics endpoint."""
        return self.metrics.port if self.metrics.listening else None

    @property
    def connection_count(self) -> int:
        return self.membership.count

    @property
    def namespaces(self) -> Mapping[AppId, Namespace[WebSocketConnection]]:
        return self._namespaces

    @property
    def ready(self) -> bool:
        """Ready for traffic (``/ready``): listening, adapter connected, not shutting down."""
        return self._listener is not None and not self.shutting_down and self.adapter.healthy

    @property
    def shutting_down(self) -> bool:
        return self.membership.closing

    async def trigger(self, app: App, trigger: Trigger, received: float | None = None) -> None:
        """Publish one HTTP API event across the cluster (see :meth:`Node.trigger`)."""
        await self.node.trigger(app, trigger, received)

    def sweep(self) -> None:
        """The heartbeat, now (see :meth:`Dispatcher.sweep`)."""
        self.dispatcher.sweep()

    async def _sweep_forever(self) -> None:
        interval = min(_HEARTBEAT_INTERVAL, self.config.activity_timeout / 4, self.config.pong_timeout / 4)
        while True:
            await asyncio.sleep(interval)
            self.dispatcher.sweep()

    # -- the listener's WebSocket upgrades --------------------------------------------

    def upgrade(self, transport: asyncio.Transport, request: HttpRequest, rest: bytes) -> None:
        """Carry out the handshake's decision on an upgrade; start the Pusher session it admits."""
        decision = accept(
            request,
            self.apps,
            connections=self.membership.count,
            max_connections=self.config.max_connections,
            shutting_down=self.shutting_down,
        )
        if isinstance(decision, Refusal):
            log.info("refusing WebSocket upgrade on %s", request.path)
            transport.write(decision.response.encode(keep_alive=False))
            transport.close()
            return
        transport.write(decision.response)
        connection = WebSocketConnection(
            self.dispatcher,
            transport,
            decision.max_message_bytes,
            clock=self.clock,
            fanout=self.node.fanout,
            lingering=self.lingering,
        )
        transport.set_protocol(connection)
        transport.set_write_buffer_limits(high=self.config.max_backpressure_bytes)
        app = decision.admission
        if isinstance(app, PusherError):
            log.info("refusing connection to app key %r: %d %s", decision.key, app.code, app.message)
            connection.fail(app)
            return
        connection.counters = self._namespaces[app.id].counters
        connection.session = Session(
            app,
            new_socket_id(),
            self.clock.monotonic(),
            activity_timeout=self.config.activity_timeout,
            pong_timeout=self.config.pong_timeout,
        )
        self.dispatcher.perform(connection, [Open()])
        if rest:
            connection.data_received(rest)

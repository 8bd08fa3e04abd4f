"""The realtime server: the composition root around the sans-I/O Pusher session.

It owns the listening socket (HTTP API and WebSocket on one port), the per-app
:class:`~opbx.realtime.namespace.Namespace` of local sockets, the adapter that
carries messages and shared state across the cluster, and the write coalescer.
It carries out the actions sessions return, in order per connection: actions that
need the adapter run in a short-lived task while later ones wait in the
connection's backlog. It implements the adapter's
:class:`~opbx.adapters.base.AdapterHandler`: ``deliver`` is the fan-out.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Coroutine, Mapping
from functools import partial
from typing import Any

from opbx.adapters import load_adapter
from opbx.adapters.base import Adapter
from opbx.clock import Clock, SystemClock
from opbx.configuration import port_in_use
from opbx.protocol import messages
from opbx.protocol.app import App, AppId, Limits
from opbx.protocol.channels import ChannelName, channel_type, user_channel, watchlist_channel
from opbx.protocol.errors import (
    AppDisabled,
    AppNotFound,
    InvalidVersionFormat,
    NoProtocolVersion,
    OverCapacity,
    OverConnectionQuota,
    PusherError,
    ReconnectNow,
    Unauthorized,
    UnsupportedProtocol,
)
from opbx.protocol.frames import accept_key, encode_text
from opbx.protocol.origins import origin_allowed
from opbx.protocol.presence import SignedInUser, UserId, roster
from opbx.protocol.rest import Trigger
from opbx.protocol.session import (
    Action,
    ClientEvent,
    Close,
    Join,
    Leave,
    Refused,
    Send,
    Session,
    SignIn,
    SocketId,
    new_socket_id,
)
from opbx.protocol.webhooks import WebhookEvent, WebhookKind
from opbx.realtime.apps import AppRegistry
from opbx.realtime.config import ServerConfig
from opbx.realtime.connection import Lingering, Open, Release, Step, WebSocketConnection
from opbx.realtime.fanout import WriteCoalescer
from opbx.realtime.http import HttpProtocol, HttpRequest, error_response
from opbx.realtime.metrics import ServerMetrics
from opbx.realtime.namespace import Namespace
from opbx.realtime.rest_api import HttpApi
from opbx.realtime.tls import server_ssl_context
from opbx.realtime.webhook_sink import NoWebhooks, WebhookSink
from opbx.realtime.webhook_store import DeliveryStore, MemoryDeliveryStore
from opbx.realtime.webhooks import WebhookSender

__all__ = ["RealtimeServer"]

log = logging.getLogger("opbx.realtime")

_APP_PATH = re.compile(r"/app/([^/]+)/?")
_SUPPORTED_PROTOCOLS = range(4, 8)
"""Protocol versions served: 7 is current; 4 to 6 differ only on the client side."""
_HEARTBEAT_INTERVAL = 5.0


class RealtimeServer:
    """A Pusher Channels protocol v7 server."""

    def __init__(self, config: ServerConfig, *, adapter: Adapter | None = None, clock: Clock | None = None) -> None:
        self.config = config
        self.apps = AppRegistry(config.apps)
        self.clock: Clock = clock or SystemClock()
        self.adapter: Adapter = adapter if adapter is not None else _adapter_for(config)
        self.api = HttpApi(self)
        self._namespaces = {app.id: Namespace(app) for app in self.apps}
        self._connections: set[WebSocketConnection] = set()
        self._http_connections: set[HttpProtocol] = set()
        self.lingering = Lingering()
        """WebSocket connections this server closed, waiting for their clients to answer."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._max_body_bytes = max(app.limits.max_request_body_bytes for app in self.apps)
        self.fanout: WriteCoalescer
        self.webhooks: WebhookSink = _webhooks_for(config, self.adapter)
        """Where cluster-wide transitions are reported to the apps' webhook URLs."""
        self.metrics = ServerMetrics(self)
        self._stopping = False
        self._stopping_since = 0.0
        self._sockets_closed = 0
        """WebSocket connections told to reconnect (4200) by the shutdown: logged when it ends."""
        self._publish_received: float | None = None
        """When the publish being handed to the adapter was received (see ``deliver``)."""

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Start the adapter, listen, and start the heartbeat."""
        loop = asyncio.get_running_loop()
        self.fanout = WriteCoalescer(loop)
        await self.adapter.start(self)
        await self.webhooks.start()
        config = self.config
        tls = server_ssl_context(config.ssl_cert, config.ssl_key) if config.ssl_cert and config.ssl_key else None
        try:
            self._listener = await loop.create_server(
                lambda: HttpProtocol(self.api.handle, self.upgrade, self._max_body_bytes, self._http_connections),
                self.config.host,
                self.config.port,
                backlog=4096,
                reuse_address=True,
                reuse_port=self.config.reuse_port or None,
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
        log.info("realtime server listening on %s:%d%s", self.config.host, self.port, " (TLS)" if tls else "")
        if config.metrics_port is not None:
            await self.metrics.start(config.metrics_host or config.host, config.metrics_port)

    async def stop_within_grace(self) -> None:
        """:meth:`stop`, cut short at ``shutdown_grace``: what is still pending then is dropped."""
        try:
            await asyncio.wait_for(self.stop(), self.config.shutdown_grace)
        except TimeoutError:
            log.warning("shutdown took longer than shutdown_grace (%gs); exiting anyway", self.config.shutdown_grace)

    @property
    def port(self) -> int:
        """The port actually bound (useful when configured as 0)."""
        assert self._listener is not None
        assert self._listener.sockets
        port: int = self._listener.sockets[0].getsockname()[1]
        return port

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    @property
    def metrics_port(self) -> int | None:
        """The metrics port bound, or None when there is no metrics endpoint."""
        return self.metrics.port if self.metrics.listening else None

    @property
    def namespaces(self) -> Mapping[AppId, Namespace]:
        return self._namespaces

    @property
    def ready(self) -> bool:
        """Ready for traffic (``/ready``): listening, adapter connected, not shutting down."""
        return self._listener is not None and not self._stopping and self.adapter.healthy

    @property
    def shutting_down(self) -> bool:
        return self._stopping

    def begin_shutdown(self) -> None:
        """Take no more traffic: ``/ready`` answers 503, the port closes, every client gets 4200."""
        if self._stopping:
            return
        self._stopping = True
        self._stopping_since = time.monotonic()
        if self._listener is not None:
            self._listener.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        connections = list(self._connections)
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

    # -- WebSocket handshake --------------------------------------------------

    def upgrade(self, transport: asyncio.Transport, request: HttpRequest, rest: bytes) -> None:
        """Answer a WebSocket upgrade on ``/app/{key}`` and start its Pusher session."""
        match = _APP_PATH.fullmatch(request.path)
        client_key = request.headers.get("sec-websocket-key", "")
        refusal = None
        if match is None:
            refusal = error_response(404, "WebSocket connections go to /app/{key}")
        elif request.method != "GET" or "websocket" not in request.headers.get("upgrade", "").lower():
            refusal = error_response(400, "Expected a WebSocket upgrade")
        elif not client_key:
            refusal = error_response(400, "Missing Sec-WebSocket-Key")
        elif request.headers.get("sec-websocket-version") != "13":
            refusal = error_response(426, "Unsupported WebSocket version")
            refusal.headers.append(("Sec-WebSocket-Version", "13"))
        if refusal is not None or match is None:
            log.info("refusing WebSocket upgrade on %s", request.path)
            if refusal is not None:
                transport.write(refusal.encode(keep_alive=False))
            transport.close()
            return
        transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept_key(client_key).encode() + b"\r\n\r\n"
        )
        app = self.apps.by_key(match.group(1))
        limits = app.limits if app is not None else Limits()
        connection = WebSocketConnection(self, transport, limits.max_frame_bytes)
        transport.set_protocol(connection)
        transport.set_write_buffer_limits(high=self.config.max_backpressure_bytes)
        try:
            app = self._admit(app, request)
        except PusherError as exc:
            log.info("refusing connection to app key %r: %d %s", match.group(1), exc.code, exc.message)
            connection.fail(exc)
            return
        namespace = self._namespaces[app.id]
        connection.counters = namespace.counters
        connection.session = Session(
            app,
            new_socket_id(),
            self.clock.monotonic(),
            activity_timeout=self.config.activity_timeout,
            pong_timeout=self.config.pong_timeout,
        )
        connection.namespace = namespace
        connection.backlog = deque([Open()])
        self._spawn(self._drain(connection))
        if rest:
            connection.data_received(rest)

    def _admit(self, app: App | None, request: HttpRequest) -> App:
        """The protocol's checks on a new connection, in the order Pusher makes them."""
        if app is None:
            raise AppNotFound()
        version = request.query.get("protocol")
        if version is None:
            raise NoProtocolVersion()
        if not version.isdigit():
            raise InvalidVersionFormat(f"Invalid protocol version {version[:16]!r}")
        if int(version) not in _SUPPORTED_PROTOCOLS:
            raise UnsupportedProtocol(f"Unsupported protocol version {version}; this server speaks 4 to 7")
        if not app.enabled:
            raise AppDisabled()
        if not origin_allowed(app.allowed_origins, request.headers.get("origin")):
            raise Unauthorized("Origin not allowed")
        if self._stopping:
            raise ReconnectNow("Server is shutting down")
        limit = self.config.max_connections
        if limit is not None and len(self._connections) >= limit:
            raise OverCapacity()
        return app

    # -- carrying out session actions -------------------------------------------

    def perform(self, connection: WebSocketConnection, actions: list[Action]) -> None:
        """Carry out ``actions`` in order; those needing the adapter continue in a task."""
        backlog = connection.backlog
        if backlog is not None:
            backlog.extend(actions)
            return
        for index, action in enumerate(actions):
            kind = type(action)
            if kind is Send:
                assert isinstance(action, Send)
                connection.send(action.message)
            elif kind is Close:
                assert isinstance(action, Close)
                connection.close(action.code, action.reason)
            elif kind is Refused:
                assert isinstance(action, Refused)
                _log_refusal(connection, action)
            else:
                connection.backlog = deque(actions[index:])
                self._spawn(self._drain(connection))
                return

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, connection: WebSocketConnection) -> None:
        backlog = connection.backlog
        assert backlog is not None
        try:
            while backlog:
                step = backlog.popleft()
                try:
                    await self._step(connection, step)
                except Exception:
                    log.exception("failed to carry out %s", type(step).__name__)
        finally:
            connection.backlog = None

    async def _step(self, connection: WebSocketConnection, step: Step) -> None:
        if isinstance(step, Send):
            connection.send(step.message)
        elif isinstance(step, Close):
            connection.close(step.code, step.reason)
        elif isinstance(step, Refused):
            _log_refusal(connection, step)
        elif isinstance(step, Join):
            await self._join(connection, step)
        elif isinstance(step, Leave):
            await self._leave(connection, step)
        elif isinstance(step, ClientEvent):
            await self._client_event(connection, step)
        elif isinstance(step, SignIn):
            await self._sign_in(connection, step)
        elif isinstance(step, Open):
            await self._open(connection)
        else:
            await self._release(connection)

    @staticmethod
    def _parts(connection: WebSocketConnection) -> tuple[Session, Namespace, App]:
        session, namespace = connection.session, connection.namespace
        assert session is not None
        assert namespace is not None
        return session, namespace, session.app

    async def _open(self, connection: WebSocketConnection) -> None:
        session, namespace, app = self._parts(connection)
        total = await self.adapter.add_connection(app.id, session.socket_id)
        limit = app.limits.max_connections
        if connection.closed:
            return  # Release follows and releases the count
        if self._stopping:
            connection.fail(ReconnectNow("Server is shutting down"))
            return
        if limit is not None and total > limit:
            log.info("app %s over its connection quota of %d", app.id, limit)
            connection.fail(OverConnectionQuota())
            return
        namespace.sockets[session.socket_id] = connection
        namespace.counters.connections_opened += 1
        self._connections.add(connection)
        for action in session.open():
            assert isinstance(action, Send)
            connection.send(action.message)

    async def _join(self, connection: WebSocketConnection, join: Join) -> None:
        session, namespace, app = self._parts(connection)
        channel, member, socket_id = join.channel, join.member, session.socket_id
        if connection.closed:
            return
        if channel in session.channels:
            await self._succeed(
                connection, channel, None if member is None else await self.adapter.members(app.id, channel)
            )
            return
        members: dict[UserId, object] | None = None
        first = False
        if member is not None:
            presence = await self.adapter.add_member(
                app.id, channel, socket_id, member, app.limits.max_presence_members
            )
            if not presence.accepted:
                connection.send(
                    messages.subscription_error(
                        channel,
                        "LimitReached",
                        f"The presence channel is full ({app.limits.max_presence_members} members)",
                        4100,
                    )
                )
                return
            members, first = presence.members, presence.first
        occupancy = await self.adapter.subscribe(app.id, channel, socket_id)
        namespace.subscribe(channel, connection)
        session.joined(channel, member)
        if occupancy.changed:
            self.webhooks.emit(app, WebhookEvent(WebhookKind.CHANNEL_OCCUPIED, channel))
        if member is not None and first:
            self.webhooks.emit(app, WebhookEvent(WebhookKind.MEMBER_ADDED, channel, user_id=member.user_id))
        if connection.closed:
            return  # Release follows and leaves the channel again
        await self._succeed(connection, channel, members)
        if member is not None and first:
            added = messages.member_added(channel, member.user_id, member.user_info)
            await self.adapter.publish(app.id, channel, added, socket_id)
        elif member is None:
            await self._count_changed(app, channel, occupancy.count)

    async def _succeed(
        self, connection: WebSocketConnection, channel: ChannelName, members: dict[UserId, object] | None
    ) -> None:
        _, _, app = self._parts(connection)
        connection.send(messages.subscription_succeeded(channel, None if members is None else roster(members)))
        if channel_type(channel).cached:
            cached = await self.adapter.cache_get(app.id, channel)
            if cached is None:
                connection.send(messages.cache_miss(channel))
                self.webhooks.emit(app, WebhookEvent(WebhookKind.CACHE_MISS, channel))
            else:
                connection.send(cached)

    async def _count_changed(self, app: App, channel: ChannelName, count: int) -> None:
        """Tell a channel, and the app's webhooks, its new subscription count (when enabled)."""
        if not app.subscription_count_events:
            return
        self.webhooks.emit(app, WebhookEvent(WebhookKind.SUBSCRIPTION_COUNT, channel, subscription_count=count))
        if count:
            await self.adapter.publish(app.id, channel, messages.subscription_count(channel, count))

    async def _leave(self, connection: WebSocketConnection, leave: Leave) -> None:
        session, namespace, app = self._parts(connection)
        channel, member = leave.channel, leave.member
        namespace.unsubscribe(channel, connection)
        occupancy = await self.adapter.unsubscribe(app.id, channel, session.socket_id)
        if member is not None:
            if await self.adapter.remove_member(app.id, channel, session.socket_id, member.user_id):
                self.webhooks.emit(app, WebhookEvent(WebhookKind.MEMBER_REMOVED, channel, user_id=member.user_id))
                await self.adapter.publish(app.id, channel, messages.member_removed(channel, member.user_id))
        else:
            await self._count_changed(app, channel, occupancy.count)
        if occupancy.changed:
            self.webhooks.emit(app, WebhookEvent(WebhookKind.CHANNEL_VACATED, channel))

    async def _client_event(self, connection: WebSocketConnection, event: ClientEvent) -> None:
        session, _, app = self._parts(connection)
        await self.adapter.publish(app.id, event.channel, event.message, session.socket_id)
        self.webhooks.emit(
            app,
            WebhookEvent(
                WebhookKind.CLIENT_EVENT,
                event.channel,
                user_id=event.user_id,
                event=event.event,
                data=event.data,
                socket_id=session.socket_id,
            ),
        )

    async def _sign_in(self, connection: WebSocketConnection, sign_in: SignIn) -> None:
        """Record the user, answer, then tell watchers and the watchlist who is online."""
        session, namespace, app = self._parts(connection)
        user = sign_in.user
        if connection.user is not None:
            await self._sign_out(connection)
        connection.user = user
        namespace.add_user(user.id, connection)
        for channel in _user_channels(user):
            namespace.subscribe(channel, connection)
        came_online = await self.adapter.sign_in(app.id, user.id, session.socket_id)
        connection.send(messages.signin_success(user.user_data))
        if user.watchlist:
            online = await self.adapter.online(app.id, user.watchlist)
            if online:
                connection.send(messages.watchlist_events("online", online))
        if came_online:
            news = messages.watchlist_events("online", [user.id])
            await self.adapter.publish(app.id, watchlist_channel(user.id), news)

    async def _sign_out(self, connection: WebSocketConnection) -> None:
        session, namespace, app = self._parts(connection)
        user = connection.user
        if user is None:
            return
        connection.user = None
        namespace.remove_user(user.id, connection)
        for channel in _user_channels(user):
            namespace.unsubscribe(channel, connection)
        if await self.adapter.sign_out(app.id, user.id, session.socket_id):
            news = messages.watchlist_events("offline", [user.id])
            await self.adapter.publish(app.id, watchlist_channel(user.id), news)

    # -- leaving ------------------------------------------------------------------

    def disconnect(self, connection: WebSocketConnection) -> None:
        """The socket closed: stop delivering to it now, release its state in order."""
        if connection.released:
            return
        connection.released = True
        session, namespace = connection.session, connection.namespace
        if session is None or namespace is None:
            return
        self._connections.discard(connection)
        for channel in session.channels:
            namespace.unsubscribe(channel, connection)
        if connection.user is not None:
            for channel in _user_channels(connection.user):
                namespace.unsubscribe(channel, connection)
        if namespace.sockets.get(session.socket_id) is connection:
            del namespace.sockets[session.socket_id]
            namespace.counters.connections_closed += 1
        if connection.backlog is not None:
            connection.backlog.append(Release())
        else:
            connection.backlog = deque([Release()])
            self._spawn(self._drain(connection))

    async def _release(self, connection: WebSocketConnection) -> None:
        session, _, app = self._parts(connection)
        for leave in session.leave_all():
            await self._leave(connection, leave)
        await self._sign_out(connection)
        await self.adapter.remove_connection(app.id, session.socket_id)

    # -- AdapterHandler ---------------------------------------------------------------

    def deliver(self, app_id: AppId, channel: ChannelName, message: bytes, except_socket: SocketId | None) -> None:
        """Fan ``message`` out to this node's subscribers: framed once, queued for each.

        Counted once per call (recipients x frame size), never per socket. When this is
        the delivery of a publish of this node (the adapters deliver locally before their
        first await), its latency is observed after the flush that writes it.
        """
        received = self._publish_received
        self._publish_received = None
        namespace = self._namespaces.get(app_id)
        if namespace is None:
            return
        subscribers = namespace.channels.get(channel)
        if not subscribers:
            return
        excluded = namespace.sockets.get(except_socket) if except_socket is not None else None
        frame = encode_text(message)
        self.fanout.send_many(frame, subscribers, excluded)
        recipients = len(subscribers) - (excluded is not None and excluded in subscribers)
        counters = namespace.counters
        counters.messages_out += recipients
        counters.bytes_out += recipients * len(frame)
        if received is not None and recipients:
            self.fanout.after_flush(partial(self.metrics.publish_written, app_id, received))

    def member_left(self, app_id: AppId, channel: ChannelName, user_id: UserId) -> None:
        """A dead node's user left a presence channel: tell the channel and the webhooks."""
        app = self.apps.by_id(app_id)
        if app is None:
            return
        self.webhooks.emit(app, WebhookEvent(WebhookKind.MEMBER_REMOVED, channel, user_id=user_id))
        self._spawn(self.adapter.publish(app_id, channel, messages.member_removed(channel, user_id)))

    def channel_vacated(self, app_id: AppId, channel: ChannelName) -> None:
        app = self.apps.by_id(app_id)
        if app is not None:
            self.webhooks.emit(app, WebhookEvent(WebhookKind.CHANNEL_VACATED, channel))

    def terminate_user(self, app_id: AppId, user_id: UserId) -> None:
        namespace = self._namespaces.get(app_id)
        if namespace is None:
            return
        for connection in list(namespace.users.get(user_id, ())):
            connection.fail(Unauthorized("Connection terminated by the server"))

    # -- publishing -----------------------------------------------------------------------

    async def trigger(self, app: App, trigger: Trigger, received: float | None = None) -> None:
        """Publish one HTTP API event to each of its channels, across the cluster.

        ``received``: ``time.perf_counter()`` when the request arrived (default now), for
        the publish latency metric.
        """
        except_socket = SocketId(trigger.socket_id) if trigger.socket_id is not None else None
        received = time.perf_counter() if received is None else received
        for channel in trigger.channels:
            message = messages.channel_event(trigger.name, channel, trigger.data)
            self._publish_received = received
            await self.adapter.publish(app.id, channel, message, except_socket)
            self._publish_received = None
            if channel_type(channel).cached:
                await self.adapter.cache_set(app.id, channel, message, self.config.cache_ttl)

    # -- heartbeat ------------------------------------------------------------------

    def sweep(self) -> None:
        """Ping silent clients and close those that never answered (see Session.tick)."""
        now = self.clock.monotonic()
        for connection in list(self._connections):
            session = connection.session
            if session is not None and not connection.closed:
                actions = session.tick(now)
                if actions:
                    self.perform(connection, actions)

    async def _sweep_forever(self) -> None:
        interval = min(_HEARTBEAT_INTERVAL, self.config.activity_timeout / 4, self.config.pong_timeout / 4)
        while True:
            await asyncio.sleep(interval)
            self.sweep()


def _log_refusal(connection: WebSocketConnection, refused: Refused) -> None:
    session = connection.session
    socket_id = session.socket_id if session is not None else "?"
    app_id = session.app.id if session is not None else "?"
    log.info("refused from socket %s (app %s): %s", socket_id, app_id, refused.reason)


def _user_channels(user: SignedInUser) -> list[ChannelName]:
    """The internal channels a signed-in socket listens on: its user's, and its watchlist's."""
    return [user_channel(user.id), *(watchlist_channel(watched) for watched in user.watchlist)]


def _webhooks_for(config: ServerConfig, adapter: Adapter) -> WebhookSink:
    """A sender when an app has webhook targets; deliveries in Redis when the cluster is."""
    if not any(app.webhooks for app in config.apps):
        return NoWebhooks()
    store: DeliveryStore = MemoryDeliveryStore()
    if adapter.node_id is not None:  # a cluster: only then is a Redis client imported
        from opbx.adapters.redis import RedisAdapter
        from opbx.realtime.webhook_store_redis import RedisDeliveryStore

        if isinstance(adapter, RedisAdapter):
            store = RedisDeliveryStore(
                adapter.url, prefix=adapter.prefix, sentinels=adapter.sentinels, sentinel_master=adapter.sentinel_master
            )
    return WebhookSender(list(config.apps), store, retry_window=config.webhook_retry_window)


def _adapter_for(config: ServerConfig) -> Adapter:
    if config.adapter == "redis":
        return load_adapter(
            "redis",
            url=config.redis_url,
            prefix=config.redis_prefix,
            node_timeout=config.node_timeout,
            sentinels=config.redis_sentinels,
            sentinel_master=config.redis_sentinel_master,
        )
    return load_adapter(config.adapter)

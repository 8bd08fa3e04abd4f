"""This node in the cluster: messages in from the adapter, HTTP API events out to it.

Spec: https://pusher.com/docs/channels/server_api/http-api/#publishing-events (triggering)
and https://pusher.com/docs/channels/using_channels/cache-channels/ (the last event kept).

:class:`Node` is the adapter's :class:`~opbx.adapters.base.AdapterHandler`: the adapter
knows nothing of sockets and calls back here (as centrifuge's Broker calls its Node).
:meth:`Node.deliver` is the fan-out, the hot path: the frame is built once and queued
on every local subscriber by the :class:`~opbx.realtime.fanout.WriteCoalescer`, counted
once per call, never per socket.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Generic, Protocol

from opbx.adapters.base import Bus, Cache
from opbx.protocol import messages
from opbx.protocol.app import App, AppId
from opbx.protocol.channels import ChannelName, channel_type
from opbx.protocol.errors import Unauthorized
from opbx.protocol.frames import encode_text
from opbx.protocol.presence import UserId
from opbx.protocol.rest import Trigger
from opbx.protocol.session import SocketId
from opbx.protocol.webhooks import WebhookEvent, WebhookKind
from opbx.realtime.apps import AppRegistry
from opbx.realtime.dispatch import Spawn
from opbx.realtime.fanout import WriteCoalescer
from opbx.realtime.membership import S
from opbx.realtime.namespace import Namespace
from opbx.realtime.webhook_sink import WebhookSink

__all__ = ["Node", "Publisher"]

Written = Callable[[AppId, float], None]
"""Told when a publish read at a ``time.perf_counter()`` instant has been written (the latency metric)."""


class Publisher(Bus, Cache, Protocol):
    """The adapter as the node uses it: the bus, and the cache channels' last events."""


class Node(Generic[S]):
    """The adapter's handler, and the publisher of HTTP API events."""

    def __init__(
        self,
        apps: AppRegistry,
        namespaces: Mapping[AppId, Namespace[S]],
        adapter: Publisher,
        webhooks: WebhookSink,
        fanout: WriteCoalescer,
        *,
        written: Written,
        spawn: Spawn,
        cache_ttl: float,
    ) -> None:
        self._apps = apps
        self._namespaces = namespaces
        self._adapter = adapter
        self._webhooks = webhooks
        self.fanout = fanout
        self._written = written
        self._spawn = spawn
        self._cache_ttl = cache_ttl
        self._publish_received: float | None = None
        """When the publish being handed to the adapter was received (see ``deliver``)."""

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
            self.fanout.after_flush(partial(self._written, app_id, received))

    def member_left(self, app_id: AppId, channel: ChannelName, user_id: UserId) -> None:
        """A dead node's user left a presence channel: tell the channel and the webhooks."""
        app = self._apps.by_id(app_id)
        if app is None:
            return
        self._webhooks.emit(app, WebhookEvent(WebhookKind.MEMBER_REMOVED, channel, user_id=user_id))
        self._spawn(self._adapter.publish(app_id, channel, messages.member_removed(channel, user_id)))

    def channel_vacated(self, app_id: AppId, channel: ChannelName) -> None:
        app = self._apps.by_id(app_id)
        if app is not None:
            self._webhooks.emit(app, WebhookEvent(WebhookKind.CHANNEL_VACATED, channel))

    def terminate_user(self, app_id: AppId, user_id: UserId) -> None:
        namespace = self._namespaces.get(app_id)
        if namespace is None:
            return
        for subscriber in list(namespace.users.get(user_id, ())):
            subscriber.fail(Unauthorized("Connection terminated by the server"))

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
            await self._adapter.publish(app.id, channel, message, except_socket)
            self._publish_received = None
            if channel_type(channel).cached:
                await self._adapter.cache_set(app.id, channel, message, self._cache_ttl)

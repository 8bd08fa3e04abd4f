"""One app's sockets on this node: who is connected, who listens to which channel.

This is the delivery index the fan-out reads; the cluster-wide counts and rosters are
the adapter's. Channel subscriber sets hold connection objects, so a delivery walks
one set and touches nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opbx.protocol.app import App
from opbx.protocol.channels import ChannelName
from opbx.protocol.presence import UserId
from opbx.protocol.session import SocketId
from opbx.realtime.counters import AppCounters

if TYPE_CHECKING:
    from opbx.realtime.connection import WebSocketConnection

__all__ = ["Namespace"]


class Namespace:
    """The local sockets of one app."""

    __slots__ = ("app", "channels", "counters", "sockets", "users")

    def __init__(self, app: App) -> None:
        self.app = app
        self.sockets: dict[SocketId, WebSocketConnection] = {}
        self.channels: dict[ChannelName, set[WebSocketConnection]] = {}
        self.users: dict[UserId, set[WebSocketConnection]] = {}
        self.counters = AppCounters()
        """This app's traffic on this node, for the metrics endpoint."""

    def subscribe(self, channel: ChannelName, connection: WebSocketConnection) -> None:
        subscribers = self.channels.get(channel)
        if subscribers is None:
            self.channels[channel] = {connection}
        else:
            subscribers.add(connection)

    def unsubscribe(self, channel: ChannelName, connection: WebSocketConnection) -> None:
        subscribers = self.channels.get(channel)
        if subscribers is not None:
            subscribers.discard(connection)
            if not subscribers:
                del self.channels[channel]

    def add_user(self, user_id: UserId, connection: WebSocketConnection) -> None:
        self.users.setdefault(user_id, set()).add(connection)

    def remove_user(self, user_id: UserId, connection: WebSocketConnection) -> None:
        connections = self.users.get(user_id)
        if connections is not None:
            connections.discard(connection)
            if not connections:
                del self.users[user_id]

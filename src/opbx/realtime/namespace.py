"""One app's sockets on this node: who is connected, who listens to which channel.

This is the delivery index the fan-out reads; the cluster-wide counts and rosters are
the adapter's. Channel subscriber sets hold the sockets themselves, so a delivery walks
one set and touches nothing else. The index is typed on what the fan-out writes to
(:class:`~opbx.realtime.fanout.Writable`), so it knows nothing of connections.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from opbx.protocol.app import App
from opbx.protocol.channels import ChannelName
from opbx.protocol.presence import UserId
from opbx.protocol.session import SocketId
from opbx.realtime.counters import AppCounters
from opbx.realtime.fanout import Writable

__all__ = ["Namespace"]

W = TypeVar("W", bound=Writable)


class Namespace(Generic[W]):
    """The local sockets of one app."""

    __slots__ = ("app", "channels", "counters", "sockets", "users")

    def __init__(self, app: App) -> None:
        self.app = app
        self.sockets: dict[SocketId, W] = {}
        """The sockets admitted (greeted with ``pusher:connection_established``) and not closed."""
        self.channels: dict[ChannelName, set[W]] = {}
        self.users: dict[UserId, set[W]] = {}
        self.counters = AppCounters()
        """This app's traffic on this node, for the metrics endpoint."""

    def subscribe(self, channel: ChannelName, socket: W) -> None:
        subscribers = self.channels.get(channel)
        if subscribers is None:
            self.channels[channel] = {socket}
        else:
            subscribers.add(socket)

    def unsubscribe(self, channel: ChannelName, socket: W) -> None:
        subscribers = self.channels.get(channel)
        if subscribers is not None:
            subscribers.discard(socket)
            if not subscribers:
                del self.channels[channel]

    def add_user(self, user_id: UserId, socket: W) -> None:
        self.users.setdefault(user_id, set()).add(socket)

    def remove_user(self, user_id: UserId, socket: W) -> None:
        sockets = self.users.get(user_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self.users[user_id]

"""How realtime nodes share messages and state: the adapter interface.

An adapter is both a message bus (``publish`` reaches the subscribers on every node)
and the store of state that must be right for the whole cluster: subscription counts,
presence rosters, connection counts, signed-in users and cache channels. It knows
nothing of sockets: it calls back into an :class:`AdapterHandler`, which the realtime
server implements (as centrifuge's Broker calls its Node), so imports run from
``realtime`` down to ``adapters`` and never back up.

The interface is the sum of small protocols (:class:`Cluster`, :class:`Bus`,
:class:`Connections`, :class:`ChannelState`, :class:`Presence`, :class:`Users`,
:class:`Cache`), so a part of the server that needs one of them can say so.
Implementations (``local``, the ``redis`` package) are chosen by name through
:data:`opbx.adapters.ADAPTERS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from opbx.protocol.app import AppId
from opbx.protocol.channels import ChannelName
from opbx.protocol.presence import PresenceMember, UserId
from opbx.protocol.session import SocketId

__all__ = [
    "Adapter",
    "AdapterHandler",
    "AdapterUnavailable",
    "Bus",
    "Cache",
    "ChannelCounts",
    "ChannelState",
    "Cluster",
    "Connections",
    "Occupancy",
    "Presence",
    "PresenceJoin",
    "Users",
]


class AdapterUnavailable(Exception):
    """The cluster's shared state cannot be reached: a cluster-wide answer is impossible now."""


class AdapterHandler(Protocol):
    """What an adapter calls on the node that owns it."""

    def deliver(self, app_id: AppId, channel: ChannelName, message: bytes, except_socket: SocketId | None) -> None:
        """Write ``message`` to this node's subscribers of ``channel``, except one socket."""

    def terminate_user(self, app_id: AppId, user_id: UserId) -> None:
        """Close this node's sockets signed in as ``user_id``."""

    def member_left(self, app_id: AppId, channel: ChannelName, user_id: UserId) -> None:
        """A user's last socket on a presence channel was on a node that died: announce it."""

    def channel_vacated(self, app_id: AppId, channel: ChannelName) -> None:
        """A channel's last subscriber was on a node that died: announce it."""


@dataclass(frozen=True, slots=True)
class ChannelCounts:
    """A channel's occupancy across the cluster."""

    subscription_count: int
    user_count: int | None = None
    """Distinct users; only presence channels have one."""


@dataclass(frozen=True, slots=True)
class Occupancy:
    """A channel's subscription count after one socket joined or left, decided atomically."""

    count: int
    changed: bool
    """True when this change made the channel occupied (0 -> 1) or vacant (1 -> 0), cluster-wide."""


@dataclass(frozen=True, slots=True)
class PresenceJoin:
    """Result of adding one socket to a presence roster, decided atomically."""

    accepted: bool
    """False when the roster was full and the user was not already in it."""
    first: bool
    """True when this is the user's first socket on the channel anywhere in the cluster."""
    members: dict[UserId, object]
    """The roster after the join (the user included when accepted)."""


class Cluster(Protocol):
    """The adapter's life and its standing in the cluster."""

    @property
    def node_id(self) -> str | None:
        """This node's id in the cluster; None when there is no cluster (one process)."""

    @property
    def healthy(self) -> bool:
        """Whether the cluster's shared state answered the last time it was asked (always, alone)."""

    @property
    def leases_lost(self) -> int:
        """Times this node found its lease gone while alive (its state then written again); 0 alone."""

    async def start(self, handler: AdapterHandler) -> None:
        """Connect and start calling ``handler`` for messages from the cluster."""

    async def close(self) -> None:
        """Stop, releasing this node's state in the cluster."""


class Bus(Protocol):
    """Messages to every node: each reaches the handler of every node once."""

    async def publish(
        self, app_id: AppId, channel: ChannelName, message: bytes, except_socket: SocketId | None = None
    ) -> None:
        """Deliver ``message`` to every subscriber of ``channel`` on every node."""

    async def terminate_user(self, app_id: AppId, user_id: UserId) -> None:
        """Close every socket of ``user_id`` on every node."""


class Connections(Protocol):
    """The app's sockets, counted across the cluster (for ``max_connections``)."""

    async def add_connection(self, app_id: AppId, socket_id: SocketId) -> int:
        """Count a new socket; return the app's connection count across the cluster."""

    async def remove_connection(self, app_id: AppId, socket_id: SocketId) -> None:
        """Forget a socket counted by :meth:`add_connection`."""


class ChannelState(Protocol):
    """Who is subscribed to what, across the cluster."""

    async def subscribe(self, app_id: AppId, channel: ChannelName, socket_id: SocketId) -> Occupancy:
        """Record a subscription; ``changed`` when the channel just became occupied."""

    async def unsubscribe(self, app_id: AppId, channel: ChannelName, socket_id: SocketId) -> Occupancy:
        """Remove a subscription; ``changed`` when the channel just became vacant."""

    async def channels(self, app_id: AppId) -> dict[ChannelName, ChannelCounts]:
        """Every occupied channel of an app."""

    async def channel(self, app_id: AppId, channel: ChannelName) -> ChannelCounts:
        """One channel's counts (zero when it is empty)."""


class Presence(Protocol):
    """Presence rosters (https://pusher.com/docs/channels/using_channels/presence-channels/)."""

    async def add_member(
        self, app_id: AppId, channel: ChannelName, socket_id: SocketId, member: PresenceMember, max_members: int
    ) -> PresenceJoin:
        """Add a socket to a presence roster unless ``max_members`` other users are in it."""

    async def remove_member(self, app_id: AppId, channel: ChannelName, socket_id: SocketId, user_id: UserId) -> bool:
        """Remove a socket from a roster; True when it was the user's last socket anywhere."""

    async def members(self, app_id: AppId, channel: ChannelName) -> dict[UserId, object]:
        """A presence channel's roster: user id to ``user_info``."""


class Users(Protocol):
    """Signed-in users (https://pusher.com/docs/channels/using_channels/user-authentication/)."""

    async def sign_in(self, app_id: AppId, user_id: UserId, socket_id: SocketId) -> bool:
        """Record a socket signed in as ``user_id``; True when the user just came online."""

    async def sign_out(self, app_id: AppId, user_id: UserId, socket_id: SocketId) -> bool:
        """Forget a signed-in socket; True when it was the user's last (now offline)."""

    async def online(self, app_id: AppId, user_ids: Sequence[UserId]) -> list[UserId]:
        """Those of ``user_ids`` with at least one signed-in socket anywhere."""


class Cache(Protocol):
    """Cache channels' last event (https://pusher.com/docs/channels/using_channels/cache-channels/)."""

    async def cache_set(self, app_id: AppId, channel: ChannelName, message: bytes, ttl: float) -> None:
        """Remember a cache channel's last event for ``ttl`` seconds."""

    async def cache_get(self, app_id: AppId, channel: ChannelName) -> bytes | None:
        """A cache channel's last event, if it has one that has not expired."""


class Adapter(Cluster, Bus, Connections, ChannelState, Presence, Users, Cache, Protocol):
    """The cluster's bus and shared state; every method is safe to call concurrently.

    Code that needs only a part asks for that part's protocol.
    """

"""The single-process adapter: the cluster is this process, state is in dictionaries.

Every method completes without suspending, so the local case costs no more than a
coroutine call. Counts here are exact for the process, which is the whole cluster.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from opbx.adapters.base import Adapter, AdapterHandler, ChannelCounts, Occupancy, PresenceJoin
from opbx.clock import Clock, SystemClock
from opbx.protocol.app import AppId
from opbx.protocol.channels import ChannelName, channel_type
from opbx.protocol.presence import PresenceMember, UserId
from opbx.protocol.session import SocketId

__all__ = ["AppSnapshot", "LocalAdapter"]


class _Roster:
    """A presence channel's members: user id to info, and each user's sockets."""

    __slots__ = ("info", "sockets")

    def __init__(self) -> None:
        self.info: dict[UserId, object] = {}
        self.sockets: dict[UserId, set[SocketId]] = {}


class _AppState:
    __slots__ = ("cache", "connections", "rosters", "subscriptions", "users")

    def __init__(self) -> None:
        self.connections: set[SocketId] = set()
        self.subscriptions: dict[ChannelName, set[SocketId]] = {}
        self.rosters: dict[ChannelName, _Roster] = {}
        self.users: dict[UserId, set[SocketId]] = {}
        self.cache: dict[ChannelName, tuple[float, bytes]] = {}


@dataclass(frozen=True, slots=True)
class AppSnapshot:
    """One app's recorded state at one moment, flattened to what a cluster store writes again."""

    app_id: AppId
    connections: tuple[SocketId, ...]
    subscriptions: tuple[tuple[ChannelName, SocketId], ...]
    members: tuple[tuple[ChannelName, SocketId, PresenceMember], ...]
    """Each socket in a presence roster, with its user's member record."""
    users: tuple[tuple[UserId, SocketId], ...]
    """Each signed-in socket, with its user."""


class LocalAdapter:
    """One process, no network: ``publish`` calls straight back into the handler."""

    node_id: str | None = None
    leases_lost = 0

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._handler: AdapterHandler | None = None
        self._apps: defaultdict[AppId, _AppState] = defaultdict(_AppState)

    @property
    def healthy(self) -> bool:
        """Always: the state is in this process."""
        return True

    def snapshot(self) -> list[AppSnapshot]:
        """Everything recorded, app by app (the Redis adapter writes its node's state again from it)."""
        return [
            AppSnapshot(
                app_id=app_id,
                connections=tuple(state.connections),
                subscriptions=tuple(
                    (channel, socket_id) for channel, sockets in state.subscriptions.items() for socket_id in sockets
                ),
                members=tuple(
                    (channel, socket_id, PresenceMember(user_id, roster.info.get(user_id)))
                    for channel, roster in state.rosters.items()
                    for user_id, sockets in roster.sockets.items()
                    for socket_id in sockets
                ),
                users=tuple((user_id, socket_id) for user_id, sockets in state.users.items() for socket_id in sockets),
            )
            for app_id, state in self._apps.items()
        ]

    async def start(self, handler: AdapterHandler) -> None:
        self._handler = handler

    async def close(self) -> None:
        self._handler = None

    async def publish(
        self, app_id: AppId, channel: ChannelName, message: bytes, except_socket: SocketId | None = None
    ) -> None:
        if self._handler is not None:
            self._handler.deliver(app_id, channel, message, except_socket)

    async def add_connection(self, app_id: AppId, socket_id: SocketId) -> int:
        connections = self._apps[app_id].connections
        connections.add(socket_id)
        return len(connections)

    async def remove_connection(self, app_id: AppId, socket_id: SocketId) -> None:
        self._apps[app_id].connections.discard(socket_id)

    async def subscribe(self, app_id: AppId, channel: ChannelName, socket_id: SocketId) -> Occupancy:
        sockets = self._apps[app_id].subscriptions.setdefault(channel, set())
        added = socket_id not in sockets
        sockets.add(socket_id)
        return Occupancy(count=len(sockets), changed=added and len(sockets) == 1)

    async def unsubscribe(self, app_id: AppId, channel: ChannelName, socket_id: SocketId) -> Occupancy:
        subscriptions = self._apps[app_id].subscriptions
        sockets = subscriptions.get(channel)
        if sockets is None or socket_id not in sockets:
            return Occupancy(count=len(sockets or ()), changed=False)
        sockets.discard(socket_id)
        if not sockets:
            del subscriptions[channel]
        return Occupancy(count=len(sockets), changed=not sockets)

    async def add_member(
        self, app_id: AppId, channel: ChannelName, socket_id: SocketId, member: PresenceMember, max_members: int
    ) -> PresenceJoin:
        rosters = self._apps[app_id].rosters
        roster = rosters.get(channel) or _Roster()
        sockets = roster.sockets.get(member.user_id)
        if sockets is None and len(roster.info) >= max_members:
            return PresenceJoin(accepted=False, first=False, members=dict(roster.info))
        rosters[channel] = roster
        first = sockets is None
        if sockets is None:
            sockets = roster.sockets[member.user_id] = set()
            roster.info[member.user_id] = member.user_info
        sockets.add(socket_id)
        return PresenceJoin(accepted=True, first=first, members=dict(roster.info))

    async def remove_member(self, app_id: AppId, channel: ChannelName, socket_id: SocketId, user_id: UserId) -> bool:
        rosters = self._apps[app_id].rosters
        roster = rosters.get(channel)
        sockets = roster.sockets.get(user_id) if roster is not None else None
        if roster is None or sockets is None or socket_id not in sockets:
            return False
        sockets.discard(socket_id)
        if sockets:
            return False
        del roster.sockets[user_id]
        del roster.info[user_id]
        if not roster.info:
            del rosters[channel]
        return True

    async def members(self, app_id: AppId, channel: ChannelName) -> dict[UserId, object]:
        roster = self._apps[app_id].rosters.get(channel)
        return dict(roster.info) if roster is not None else {}

    def _counts(self, state: _AppState, channel: ChannelName) -> ChannelCounts:
        subscriptions = len(state.subscriptions.get(channel, ()))
        if not channel_type(channel).is_presence:
            return ChannelCounts(subscription_count=subscriptions)
        roster = state.rosters.get(channel)
        return ChannelCounts(subscription_count=subscriptions, user_count=len(roster.info) if roster else 0)

    async def channels(self, app_id: AppId) -> dict[ChannelName, ChannelCounts]:
        state = self._apps[app_id]
        return {channel: self._counts(state, channel) for channel in state.subscriptions}

    async def channel(self, app_id: AppId, channel: ChannelName) -> ChannelCounts:
        return self._counts(self._apps[app_id], channel)

    async def sign_in(self, app_id: AppId, user_id: UserId, socket_id: SocketId) -> bool:
        sockets = self._apps[app_id].users.setdefault(user_id, set())
        first = not sockets
        sockets.add(socket_id)
        return first

    async def sign_out(self, app_id: AppId, user_id: UserId, socket_id: SocketId) -> bool:
        users = self._apps[app_id].users
        sockets = users.get(user_id)
        if sockets is None or socket_id not in sockets:
            return False
        sockets.discard(socket_id)
        if sockets:
            return False
        del users[user_id]
        return True

    async def online(self, app_id: AppId, user_ids: Sequence[UserId]) -> list[UserId]:
        users = self._apps[app_id].users
        return [user_id for user_id in user_ids if user_id in users]

    async def terminate_user(self, app_id: AppId, user_id: UserId) -> None:
        if self._handler is not None:
            self._handler.terminate_user(app_id, user_id)

    async def cache_set(self, app_id: AppId, channel: ChannelName, message: bytes, ttl: float) -> None:
        self._apps[app_id].cache[channel] = (self._clock.monotonic() + ttl, message)

    async def cache_get(self, app_id: AppId, channel: ChannelName) -> bytes | None:
        cache = self._apps[app_id].cache
        entry = cache.get(channel)
        if entry is None:
            return None
        expires, message = entry
        if expires <= self._clock.monotonic():
            del cache[channel]
            return None
        return message


_: type[Adapter] = LocalAdapter

"""Who is on this node and on which channels: the join, leave, sign-in and release rules.

Spec: https://pusher.com/docs/channels/library_auth_reference/pusher-websockets-protocol
(subscriptions, presence, ``pusher:signin``), https://pusher.com/docs/channels/using_channels/
(cache channels, subscription counts, watchlists) and
https://pusher.com/docs/channels/server_api/webhooks (the transitions reported).

The session (:mod:`opbx.protocol.session`) decides what depends on one socket; what
depends on shared state is decided here, against the adapter, which says atomically
whether a change was a transition for the whole cluster (a channel occupied, a user's
first socket on a presence channel...). Only transitions are announced: member events
to the channel, webhooks to the sink. Local delivery state is the app's
:class:`~opbx.realtime.namespace.Namespace`.

A socket is seen only as a :class:`Subscriber`, so these rules run, in the tests, on
the local adapter with no port at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Generic, Protocol, TypeVar

from opbx.adapters.base import Bus, Cache, ChannelState, Connections, Presence, Users
from opbx.protocol import messages
from opbx.protocol.app import App, AppId
from opbx.protocol.channels import ChannelName, channel_type, user_channel, watchlist_channel
from opbx.protocol.errors import OverConnectionQuota, PusherError, ReconnectNow
from opbx.protocol.presence import SignedInUser, UserId, roster
from opbx.protocol.session import ClientEvent, Join, Leave, Send, Session, SignIn
from opbx.protocol.webhooks import WebhookEvent, WebhookKind
from opbx.realtime.fanout import Writable
from opbx.realtime.namespace import Namespace
from opbx.realtime.webhook_sink import WebhookSink

__all__ = ["Membership", "SharedState", "Subscriber"]

log = logging.getLogger("opbx.realtime")


class SharedState(Bus, Connections, ChannelState, Presence, Users, Cache, Protocol):
    """The adapter as membership uses it: all of it but its life (``Cluster``)."""


class Subscriber(Writable, Protocol):
    """A socket as membership sees it (a connection, or a test's fake)."""

    user: SignedInUser | None
    """The user it signed in as, once recorded here."""

    @property
    def closed(self) -> bool: ...

    def send(self, message: bytes) -> None:
        """Queue one encoded Pusher message to this socket."""

    def fail(self, error: PusherError) -> None:
        """Send ``pusher:error`` and, when the error closes, close with its code."""


S = TypeVar("S", bound=Subscriber)


class Membership(Generic[S]):
    """The node's sockets as members of apps, channels and presence rosters."""

    def __init__(self, namespaces: Mapping[AppId, Namespace[S]], adapter: SharedState, webhooks: WebhookSink) -> None:
        self._namespaces = namespaces
        self._adapter = adapter
        self._webhooks = webhooks
        self.closing = False
        """Set when the node begins shutting down: a socket still opening is told to reconnect (4200)."""

    def connected(self) -> Iterator[S]:
        """Every socket admitted to an app and not closed."""
        for namespace in self._namespaces.values():
            yield from namespace.sockets.values()

    @property
    def count(self) -> int:
        return sum(len(namespace.sockets) for namespace in self._namespaces.values())

    # -- a socket's life --------------------------------------------------------------------

    async def open(self, subscriber: S, session: Session) -> None:
        """Count the socket against its app's quota, cluster-wide; greet it, or refuse it."""
        app = session.app
        total = await self._adapter.add_connection(app.id, session.socket_id)
        limit = app.limits.max_connections
        if subscriber.closed:
            return  # release follows and releases the count
        if self.closing:
            subscriber.fail(ReconnectNow("Server is shutting down"))
            return
        if limit is not None and total > limit:
            log.info("app %s over its connection quota of %d", app.id, limit)
            subscriber.fail(OverConnectionQuota())
            return
        namespace = self._namespaces[app.id]
        namespace.sockets[session.socket_id] = subscriber
        namespace.counters.connections_opened += 1
        for action in session.open():
            assert isinstance(action, Send)
            subscriber.send(action.message)

    def detach(self, subscriber: S, session: Session) -> None:
        """The socket closed: deliver nothing more to it. :meth:`release` then frees its cluster state."""
        namespace = self._namespaces[session.app.id]
        for channel in session.channels:
            namespace.unsubscribe(channel, subscriber)
        if subscriber.user is not None:
            for channel in _user_channels(subscriber.user):
                namespace.unsubscribe(channel, subscriber)
        if namespace.sockets.get(session.socket_id) is subscriber:
            del namespace.sockets[session.socket_id]
            namespace.counters.connections_closed += 1

    async def release(self, subscriber: S, session: Session) -> None:
        """Leave every channel, sign out, and uncount the socket, announcing what that changed."""
        for leave in session.leave_all():
            await self.leave(subscriber, session, leave)
        await self._sign_out(subscriber, session)
        await self._adapter.remove_connection(session.app.id, session.socket_id)

    # -- channels -------------------------------------------------------------------------

    async def join(self, subscriber: S, session: Session, join: Join) -> None:
        """Subscribe to a channel the session accepted, within the presence limit; answer, announce."""
        app, namespace = session.app, self._namespaces[session.app.id]
        channel, member, socket_id = join.channel, join.member, session.socket_id
        if subscriber.closed:
            return
        if channel in session.channels:
            current = None if member is None else await self._adapter.members(app.id, channel)
            await self._succeed(subscriber, app, channel, current)
            return
        members: dict[UserId, object] | None = None
        first = False
        if member is not None:
            presence = await self._adapter.add_member(
                app.id, channel, socket_id, member, app.limits.max_presence_members
            )
            if not presence.accepted:
                subscriber.send(
                    messages.subscription_error(
                        channel,
                        "LimitReached",
                        f"The presence channel is full ({app.limits.max_presence_members} members)",
                        4100,
                    )
                )
                return
            members, first = presence.members, presence.first
        occupancy = await self._adapter.subscribe(app.id, channel, socket_id)
        namespace.subscribe(channel, subscriber)
        session.joined(channel, member)
        if occupancy.changed:
            self._webhooks.emit(app, WebhookEvent(WebhookKind.CHANNEL_OCCUPIED, channel))
        if member is not None and first:
            self._webhooks.emit(app, WebhookEvent(WebhookKind.MEMBER_ADDED, channel, user_id=member.user_id))
        if subscriber.closed:
            return  # release follows and leaves the channel again
        await self._succeed(subscriber, app, channel, members)
        if member is not None and first:
            added = messages.member_added(channel, member.user_id, member.user_info)
            await self._adapter.publish(app.id, channel, added, socket_id)
        elif member is None:
            await self._count_changed(app, channel, occupancy.count)

    async def _succeed(
        self, subscriber: S, app: App, channel: ChannelName, members: dict[UserId, object] | None
    ) -> None:
        subscriber.send(messages.subscription_succeeded(channel, None if members is None else roster(members)))
        if channel_type(channel).cached:
            cached = await self._adapter.cache_get(app.id, channel)
            if cached is None:
                subscriber.send(messages.cache_miss(channel))
                self._webhooks.emit(app, WebhookEvent(WebhookKind.CACHE_MISS, channel))
            else:
                subscriber.send(cached)

    async def _count_changed(self, app: App, channel: ChannelName, count: int) -> None:
        """Tell a channel, and the app's webhooks, its new subscription count (when enabled)."""
        if not app.subscription_count_events:
            return
        self._webhooks.emit(app, WebhookEvent(WebhookKind.SUBSCRIPTION_COUNT, channel, subscription_count=count))
        if count:
            await self._adapter.publish(app.id, channel, messages.subscription_count(channel, count))

    async def leave(self, subscriber: S, session: Session, leave: Leave) -> None:
        """Unsubscribe (asked, or the socket closing); announce the member or count it changed."""
        app, namespace = session.app, self._namespaces[session.app.id]
        channel, member = leave.channel, leave.member
        namespace.unsubscribe(channel, subscriber)
        occupancy = await self._adapter.unsubscribe(app.id, channel, session.socket_id)
        if member is not None:
            if await self._adapter.remove_member(app.id, channel, session.socket_id, member.user_id):
                self._webhooks.emit(app, WebhookEvent(WebhookKind.MEMBER_REMOVED, channel, user_id=member.user_id))
                await self._adapter.publish(app.id, channel, messages.member_removed(channel, member.user_id))
        else:
            await self._count_changed(app, channel, occupancy.count)
        if occupancy.changed:
            self._webhooks.emit(app, WebhookEvent(WebhookKind.CHANNEL_VACATED, channel))

    async def relay(self, session: Session, event: ClientEvent) -> None:
        """A client event: to the channel's other subscribers across the cluster, and the webhooks."""
        app = session.app
        await self._adapter.publish(app.id, event.channel, event.message, session.socket_id)
        self._webhooks.emit(
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

    # -- users ------------------------------------------------------------------------------

    async def sign_in(self, subscriber: S, session: Session, sign_in: SignIn) -> None:
        """Record the user, answer, then tell watchers and the watchlist who is online."""
        app, namespace = session.app, self._namespaces[session.app.id]
        user = sign_in.user
        if subscriber.user is not None:
            await self._sign_out(subscriber, session)
        subscriber.user = user
        namespace.add_user(user.id, subscriber)
        for channel in _user_channels(user):
            namespace.subscribe(channel, subscriber)
        came_online = await self._adapter.sign_in(app.id, user.id, session.socket_id)
        subscriber.send(messages.signin_success(user.user_data))
        if user.watchlist:
            online = await self._adapter.online(app.id, user.watchlist)
            if online:
                subscriber.send(messages.watchlist_events("online", online))
        if came_online:
            news = messages.watchlist_events("online", [user.id])
            await self._adapter.publish(app.id, watchlist_channel(user.id), news)

    async def _sign_out(self, subscriber: S, session: Session) -> None:
        app, namespace = session.app, self._namespaces[session.app.id]
        user = subscriber.user
        if user is None:
            return
        subscriber.user = None
        namespace.remove_user(user.id, subscriber)
        for channel in _user_channels(user):
            namespace.unsubscribe(channel, subscriber)
        if await self._adapter.sign_out(app.id, user.id, session.socket_id):
            news = messages.watchlist_events("offline", [user.id])
            await self._adapter.publish(app.id, watchlist_channel(user.id), news)


def _user_channels(user: SignedInUser) -> list[ChannelName]:
    """The internal channels a signed-in socket listens on: its user's, and its watchlist's."""
    return [user_channel(user.id), *(watchlist_channel(watched) for watched in user.watchlist)]

"""One client's Pusher session, sans I/O: text in, actions out.

Spec: https://pusher.com/docs/channels/library_auth_reference/pusher-websockets-protocol

The session decides everything that depends only on this connection and its app:
message syntax, channel names, auth signatures, client-event rules and rate, the
heartbeat. What depends on shared state (presence rosters, member limits, fan-out)
it hands to the caller as actions: :class:`Join`, :class:`Leave`, :class:`ClientEvent`
and :class:`SignIn`. The caller reports a completed join back with :meth:`Session.joined`.
It never touches a socket, a clock or an event loop: time is passed in.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from typing import NewType

import orjson

from opbx.protocol import messages
from opbx.protocol.app import App
from opbx.protocol.channels import (
    ChannelName,
    ChannelType,
    InvalidChannelName,
    channel_type,
    check_channel_name,
    user_channel,
)
from opbx.protocol.errors import (
    ClientEventRejected,
    InvalidMessage,
    PongNotReceived,
    PusherError,
    Unauthorized,
    WatchlistTooLong,
)
from opbx.protocol.events import CLIENT_EVENT_PREFIX, ProtocolEvent
from opbx.protocol.presence import (
    InvalidUserData,
    PresenceMember,
    SignedInUser,
    parse_channel_data,
    parse_user_data,
)
from opbx.protocol.ratelimit import TokenBucket
from opbx.protocol.signing import verify_channel_auth, verify_user_auth

__all__ = [
    "Action",
    "ClientEvent",
    "Close",
    "Join",
    "Leave",
    "Refused",
    "Send",
    "Session",
    "SignIn",
    "SocketId",
    "new_socket_id",
]

SocketId = NewType("SocketId", str)

_socket_counter = 0

_LOGGED_CHANNEL_CHARS = 200
"""How much of a refused channel name goes into the log (the client may send a huge one)."""


def new_socket_id() -> SocketId:
    """A socket id of the protocol's form ``\\d+.\\d+``: random, then a per-process counter."""
    global _socket_counter
    _socket_counter += 1
    return SocketId(f"{secrets.randbelow(10**10)}.{_socket_counter}")


@dataclass(frozen=True, slots=True)
class Send:
    """Write one encoded message to this client."""

    message: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """Close this client's socket with a Pusher close code."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class Join:
    """The client asked for ``channel`` and passed every check that is the session's to make."""

    channel: ChannelName
    type: ChannelType
    member: PresenceMember | None


@dataclass(frozen=True, slots=True)
class Leave:
    """The client left ``channel`` (unsubscribed, or its socket is going away)."""

    channel: ChannelName
    member: PresenceMember | None


@dataclass(frozen=True, slots=True)
class ClientEvent:
    """Relay ``message`` (already encoded) to the channel's other subscribers."""

    channel: ChannelName
    event: str
    message: bytes
    data: object = None
    """The event's data as the client sent it (for the ``client_event`` webhook)."""
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class SignIn:
    """The client proved it is ``user``."""

    user: SignedInUser


@dataclass(frozen=True, slots=True)
class Refused:
    """Something the client sent was refused; the caller logs ``reason``."""

    reason: str


Action = Send | Close | Join | Leave | ClientEvent | SignIn | Refused


class Session:
    """The protocol state of one connection."""

    __slots__ = (
        "_activity_timeout",
        "_client_events",
        "_last_seen",
        "_opened_at",
        "_ping_sent_at",
        "_pong_timeout",
        "app",
        "channels",
        "socket_id",
        "user",
    )

    def __init__(
        self,
        app: App,
        socket_id: SocketId,
        now: float,
        *,
        activity_timeout: int = 120,
        pong_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.socket_id = socket_id
        self.channels: dict[ChannelName, PresenceMember | None] = {}
        """Channels this socket has joined, with its presence identity on each."""
        self.user: SignedInUser | None = None
        self._activity_timeout = activity_timeout
        self._pong_timeout = pong_timeout
        self._opened_at = now
        self._last_seen = now
        self._ping_sent_at: float | None = None
        self._client_events: TokenBucket | None = None

    # -- connection lifecycle -------------------------------------------------

    def open(self) -> list[Action]:
        """The greeting: ``pusher:connection_established`` with the socket id."""
        return [Send(messages.connection_established(self.socket_id, self._activity_timeout))]

    def touch(self, now: float) -> None:
        """Record activity (any frame from the client, WebSocket pings included)."""
        self._last_seen = now
        self._ping_sent_at = None

    def tick(self, now: float) -> list[Action]:
        """Heartbeat: ping a silent client, close one that never answered (4201)."""
        if self._ping_sent_at is not None:
            if now - self._ping_sent_at >= self._pong_timeout:
                return self._fail(PongNotReceived())
            return []
        timeout = self.app.user_authentication_timeout
        if timeout is not None and self.user is None and now - self._opened_at >= timeout:
            return self._fail(Unauthorized("Connection not signed in within the time allowed"))
        if now - self._last_seen >= self._activity_timeout:
            self._ping_sent_at = now
            return [Send(messages.ping())]
        return []

    def joined(self, channel: ChannelName, member: PresenceMember | None) -> None:
        """The caller completed a :class:`Join`: the socket is now on ``channel``."""
        self.channels[channel] = member

    def leave_all(self) -> list[Leave]:
        """Leave every channel (the socket is closing)."""
        leaves = [Leave(channel, member) for channel, member in self.channels.items()]
        self.channels.clear()
        return leaves

    # -- messages from the client --------------------------------------------

    def receive(self, text: bytes | str, now: float) -> list[Action]:
        """Handle one text frame from the client."""
        self.touch(now)
        try:
            message = messages.parse_client_message(text)
            return self._dispatch(message, now)
        except PusherError as exc:
            return self._fail(exc)

    def _fail(self, exc: PusherError, channel: str | None = None) -> list[Action]:
        actions: list[Action] = [
            Refused(f"{exc.code} {exc.message}"),
            Send(messages.error(exc.code, exc.message, channel)),
        ]
        if exc.closes:
            actions.append(Close(exc.code, exc.message))
        return actions

    def _dispatch(self, message: messages.ClientMessage, now: float) -> list[Action]:
        event = message.event
        if event == ProtocolEvent.PING:
            return [Send(messages.pong())]
        if event == ProtocolEvent.PONG:
            return []
        if event == ProtocolEvent.SUBSCRIBE:
            return self._subscribe(message.data)
        if event == ProtocolEvent.UNSUBSCRIBE:
            return self._unsubscribe(message.data)
        if event == ProtocolEvent.SIGNIN:
            return self._signin(message.data)
        if event.startswith(CLIENT_EVENT_PREFIX):
            return self._client_event(message, now)
        raise InvalidMessage(f"Unsupported event: {event[:64]}")

    def _subscribe(self, data: object) -> list[Action]:
        if not isinstance(data, dict):
            raise InvalidMessage("pusher:subscribe needs a 'data' object")
        raw_channel = data.get("channel")
        if self.user is not None and raw_channel == user_channel(self.user.id):
            # pusher-js subscribes to its own user channel after signing in; the server
            # already joined it at sign-in, so this only needs the acknowledgement.
            return [Send(messages.subscription_succeeded(raw_channel))]
        limits = self.app.limits
        try:
            channel = check_channel_name(raw_channel, limits.max_channel_name_length)
        except InvalidChannelName as exc:
            if not isinstance(raw_channel, str):
                raise InvalidMessage(f"pusher:subscribe: {exc}") from None
            # Named as sent, however long: pusher-js routes the error by exact channel name.
            return self._refuse(raw_channel, "InvalidChannel", str(exc), 400)
        kind = channel_type(channel)
        member: PresenceMember | None = None
        if kind.needs_auth:
            auth = data.get("auth")
            channel_data = data.get("channel_data") if kind.is_presence else None
            if not isinstance(auth, str):
                return self._refuse(channel, "AuthError", "Missing 'auth' for a private channel", 401)
            if kind.is_presence and not isinstance(channel_data, str):
                return self._refuse(channel, "AuthError", "Missing 'channel_data' for a presence channel", 401)
            assert channel_data is None or isinstance(channel_data, str)
            if not verify_channel_auth(self.app.key, self.app.secret, self.socket_id, channel, channel_data, auth):
                return self._refuse(channel, "AuthError", "Invalid signature", 401)
            if kind.is_presence:
                try:
                    member = parse_channel_data(
                        channel_data,
                        max_user_id_length=limits.max_user_id_length,
                        max_user_info_bytes=limits.max_presence_user_info_bytes,
                    )
                except InvalidUserData as exc:
                    return self._refuse(channel, "InvalidChannelData", str(exc), 400)
        return [Join(channel, kind, member)]

    @staticmethod
    def _refuse(channel: str, kind: str, message: str, status: int) -> list[Action]:
        return [
            Refused(f"subscription to {channel[:_LOGGED_CHANNEL_CHARS]!r}: {kind} {message}"),
            Send(messages.subscription_error(channel, kind, message, status)),
        ]

    def _unsubscribe(self, data: object) -> list[Action]:
        if not isinstance(data, dict) or not isinstance(data.get("channel"), str):
            raise InvalidMessage("pusher:unsubscribe needs a 'data.channel' string")
        channel = ChannelName(data["channel"])
        if channel not in self.channels:
            return []
        return [Leave(channel, self.channels.pop(channel))]

    def _signin(self, data: object) -> list[Action]:
        if not isinstance(data, dict):
            raise InvalidMessage("pusher:signin needs a 'data' object")
        auth, user_data = data.get("auth"), data.get("user_data")
        if not isinstance(auth, str) or not isinstance(user_data, str):
            raise Unauthorized("pusher:signin needs 'auth' and 'user_data' strings")
        if not verify_user_auth(self.app.key, self.app.secret, self.socket_id, user_data, auth):
            raise Unauthorized("Invalid signin signature")
        try:
            user = parse_user_data(user_data, max_user_id_length=self.app.limits.max_user_id_length)
        except InvalidUserData as exc:
            raise Unauthorized(f"Invalid user_data: {exc}") from None
        actions: list[Action] = []
        limit = self.app.limits.max_watchlist_size
        if len(user.watchlist) > limit:
            actions.extend(
                self._fail(WatchlistTooLong(f"Watchlist has more than {limit} ids; the first {limit} are kept"))
            )
            user = dataclasses.replace(user, watchlist=user.watchlist[:limit])
        self.user = user
        actions.append(SignIn(user))
        return actions

    def _client_event(self, message: messages.ClientMessage, now: float) -> list[Action]:
        channel = message.channel if isinstance(message.channel, str) else ""
        try:
            return self._accept_client_event(message, channel, now)
        except ClientEventRejected as exc:
            return self._fail(exc, channel or None)

    def _accept_client_event(self, message: messages.ClientMessage, channel: str, now: float) -> list[Action]:
        app = self.app
        if not app.client_events:
            raise ClientEventRejected("Client events are not enabled for this app")
        if channel not in self.channels:
            raise ClientEventRejected("Client events need a channel this socket has joined")
        if not channel_type(channel).accepts_client_events:
            raise ClientEventRejected("Client events are allowed only on private and presence channels")
        if len(message.event) > app.limits.max_event_name_length:
            raise ClientEventRejected(f"Event name is longer than {app.limits.max_event_name_length} characters")
        data = message.data
        size = len(data.encode()) if isinstance(data, str) else len(orjson.dumps(data))
        if size > app.limits.max_event_payload_bytes:
            raise ClientEventRejected(f"Event data is larger than {app.limits.max_event_payload_bytes} bytes")
        if self._client_events is None:
            self._client_events = TokenBucket(app.limits.client_events_per_second, now)
        if not self._client_events.allow(now):
            raise ClientEventRejected(
                f"Client event rate limit exceeded: {app.limits.client_events_per_second} per second"
            )
        member = self.channels[ChannelName(channel)]
        user_id = member.user_id if member is not None else None
        encoded = messages.channel_event(message.event, channel, data, user_id)
        return [ClientEvent(ChannelName(channel), message.event, encoded, data, user_id)]

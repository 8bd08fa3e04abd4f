"""Errors of the Pusher Channels protocol, each carrying its wire code.

Spec: https://pusher.com/docs/channels/library_auth_reference/pusher-websockets-protocol#error-codes

The codes fall into ranges that tell a client what to do next::

    4000-4099  do not reconnect unchanged (the connection is refused or fatally wrong)
    4100-4199  reconnect after backing off for at least a second
    4200-4299  reconnect immediately
    4300-4399  other: the connection stays up, one request was refused

Hierarchy::

    PusherError                      code, message, closes (whether the socket is closed)
    ├── ConnectionRefused            4000-4099, always closes
    │   ├── AppNotFound              4001
    │   ├── AppDisabled              4003
    │   ├── OverConnectionQuota      4004
    │   ├── PathNotFound             4005
    │   ├── InvalidVersionFormat     4006
    │   ├── UnsupportedProtocol      4007
    │   ├── NoProtocolVersion        4008
    │   └── Unauthorized             4009
    ├── OverCapacity                 4100, closes
    ├── ReconnectNow                 4200-4299, closes
    │   ├── PongNotReceived          4201
    │   └── ClosedForInactivity      4202
    ├── InvalidMessage               4200 sent as ``pusher:error``, socket stays open
    ├── ClientEventRejected          4301, socket stays open
    └── WatchlistTooLong             4302, socket stays open (the first 100 ids are kept)

A refused subscription is not a ``pusher:error``: it is a ``pusher:subscription_error``
on that one channel (see :func:`opbx.protocol.messages.subscription_error`).
"""

from __future__ import annotations

__all__ = [
    "AppDisabled",
    "AppNotFound",
    "ClientEventRejected",
    "ClosedForInactivity",
    "ConnectionRefused",
    "InvalidMessage",
    "InvalidVersionFormat",
    "NoProtocolVersion",
    "OverCapacity",
    "OverConnectionQuota",
    "PathNotFound",
    "PongNotReceived",
    "PusherError",
    "ReconnectNow",
    "Unauthorized",
    "UnsupportedProtocol",
    "WatchlistTooLong",
]


class PusherError(Exception):
    """A protocol error with its Pusher code; ``closes`` says whether the socket ends."""

    code: int = 4000
    closes: bool = True
    default_message: str = "Protocol error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class ConnectionRefused(PusherError):
    """4000-4099: the client must not reconnect without changing something."""


class AppNotFound(ConnectionRefused):
    code = 4001
    default_message = "Application does not exist"


class AppDisabled(ConnectionRefused):
    code = 4003
    default_message = "Application is disabled"


class OverConnectionQuota(ConnectionRefused):
    code = 4004
    default_message = "Application is over its connection quota"


class PathNotFound(ConnectionRefused):
    code = 4005
    default_message = "Path not found"


class InvalidVersionFormat(ConnectionRefused):
    code = 4006
    default_message = "Invalid version string format"


class UnsupportedProtocol(ConnectionRefused):
    code = 4007
    default_message = "Unsupported protocol version"


class NoProtocolVersion(ConnectionRefused):
    code = 4008
    default_message = "No protocol version supplied"


class Unauthorized(ConnectionRefused):
    code = 4009
    default_message = "Connection is unauthorized"


class OverCapacity(PusherError):
    """4100: the server is full; the client backs off before reconnecting."""

    code = 4100
    default_message = "Over capacity"


class ReconnectNow(PusherError):
    """4200-4299: the server closes the socket and the client reconnects at once."""

    code = 4200
    default_message = "Please reconnect"


class PongNotReceived(ReconnectNow):
    code = 4201
    default_message = "Pong reply not received"


class ClosedForInactivity(ReconnectNow):
    code = 4202
    default_message = "Closed after inactivity"


class InvalidMessage(PusherError):
    """A frame the server cannot act on: answered with ``pusher:error``, socket kept.

    The code follows Laravel Reverb, which answers unparseable input with 4200.
    """

    code = 4200
    closes = False
    default_message = "Invalid message format"


class ClientEventRejected(PusherError):
    """4301: a client event was refused (rate limit, size, channel); socket kept."""

    code = 4301
    closes = False
    default_message = "Client event rejected"


class WatchlistTooLong(PusherError):
    """4302: a sign-in's watchlist has more ids than allowed; the first ones are kept."""

    code = 4302
    closes = False
    default_message = "Watchlist limit exceeded"

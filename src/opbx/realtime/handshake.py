"""The WebSocket handshake and the Pusher admission checks, sans I/O: a request in, a decision out.

Specs: RFC 6455 section 4.2 (the server's opening handshake) and
https://pusher.com/docs/channels/library_auth_reference/pusher-websockets-protocol
("Connection" and the 4000-4099 error codes).

:func:`accept` reads nothing but its arguments and writes nothing, as the websockets
library's ``ServerProtocol.accept`` does; the listener carries the decision out. There
are two ways to say no, and they differ on the wire:

* a :class:`Refusal` is an HTTP answer (404, 400, 426): the request was no WebSocket
  upgrade to ``/app/{key}`` and never becomes one;
* an :class:`Accepted` upgrade whose ``admission`` is a :class:`PusherError` is answered
  101 and then refused the Pusher way: ``pusher:error`` and a close with the error's
  4000-4099 code, which Pusher clients read (an HTTP status would only make them retry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from opbx.protocol.app import App, Limits
from opbx.protocol.errors import (
    AppDisabled,
    AppNotFound,
    InvalidVersionFormat,
    NoProtocolVersion,
    OverCapacity,
    PusherError,
    ReconnectNow,
    Unauthorized,
    UnsupportedProtocol,
)
from opbx.protocol.frames import accept_key
from opbx.protocol.origins import origin_allowed
from opbx.realtime.apps import AppRegistry
from opbx.realtime.http import HttpRequest, HttpResponse, error_response

__all__ = ["SUPPORTED_PROTOCOLS", "Accepted", "Refusal", "accept"]

_APP_PATH = re.compile(r"/app/([^/]+)/?")
SUPPORTED_PROTOCOLS = range(4, 8)
"""Protocol versions served: 7 is current; 4 to 6 differ only on the client side."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Not a WebSocket upgrade this server takes: answer ``response`` and close."""

    response: HttpResponse


@dataclass(frozen=True, slots=True)
class Accepted:
    """A WebSocket upgrade: answer ``response`` (101), then open or refuse the Pusher session."""

    response: bytes
    """``101 Switching Protocols`` with the ``Sec-WebSocket-Accept`` of the client's key."""
    key: str
    """The app key in the path, as the client sent it."""
    max_message_bytes: int
    """The largest message the socket may send: its app's limit, the default one for an unknown key."""
    admission: App | PusherError
    """The app the session is admitted to, or the error it is refused with (4001 to 4100, 4200)."""


def accept(
    request: HttpRequest,
    apps: AppRegistry,
    *,
    connections: int,
    max_connections: int | None,
    shutting_down: bool,
) -> Accepted | Refusal:
    """Decide an upgrade request on ``/app/{key}``.

    ``connections``: sockets this server holds now, against ``max_connections`` (None: no
    limit); ``shutting_down``: the server takes no new sockets (4200, reconnect elsewhere).
    """
    match = _APP_PATH.fullmatch(request.path)
    if match is None:
        return Refusal(error_response(404, "WebSocket connections go to /app/{key}"))
    if request.method != "GET" or "websocket" not in request.headers.get("upgrade", "").lower():
        return Refusal(error_response(400, "Expected a WebSocket upgrade"))
    client_key = request.headers.get("sec-websocket-key", "")
    if not client_key:
        return Refusal(error_response(400, "Missing Sec-WebSocket-Key"))
    if request.headers.get("sec-websocket-version") != "13":
        refusal = error_response(426, "Unsupported WebSocket version")
        refusal.headers.append(("Sec-WebSocket-Version", "13"))
        return Refusal(refusal)
    response = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_key(client_key).encode() + b"\r\n\r\n"
    )
    key = match.group(1)
    app = apps.by_key(key)
    limits = app.limits if app is not None else Limits()
    try:
        admission: App | PusherError = _admit(app, request, connections, max_connections, shutting_down)
    except PusherError as exc:
        admission = exc
    return Accepted(response, key, limits.max_frame_bytes, admission)


def _admit(
    app: App | None, request: HttpRequest, connections: int, max_connections: int | None, shutting_down: bool
) -> App:
    """The protocol's checks on a new connection, in the order Pusher makes them."""
    if app is None:
        raise AppNotFound()
    version = request.query.get("protocol")
    if version is None:
        raise NoProtocolVersion()
    if not version.isdigit():
        raise InvalidVersionFormat(f"Invalid protocol version {version[:16]!r}")
    if int(version) not in SUPPORTED_PROTOCOLS:
        raise UnsupportedProtocol(f"Unsupported protocol version {version}; this server speaks 4 to 7")
    if not app.enabled:
        raise AppDisabled()
    if not origin_allowed(app.allowed_origins, request.headers.get("origin")):
        raise Unauthorized("Origin not allowed")
    if shutting_down:
        raise ReconnectNow("Server is shutting down")
    if max_connections is not None and connections >= max_connections:
        raise OverCapacity()
    return app

"""A lean Pusher client for load: one ``asyncio.Protocol`` per connection.

It upgrades with a hand-written request and reads frames with
:class:`~opbx.bench.wire.ServerFrameReader` while it connects and subscribes (answering
``pusher:ping`` and WebSocket pings). For measurement it switches to counting: each
chunk from the socket is only scanned for the run's marker (see :mod:`opbx.bench.marker`)
and for ``pusher:ping``, time-stamped, and optionally kept for parsing after the run.
That makes the client's cost per chunk, not per message. (WebSocket-level pings go
unanswered while counting; servers send those only to silent connections.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

import orjson

from opbx.bench.marker import MarkerCounter
from opbx.bench.wire import HandshakeError, ServerFrameReader, handshake_request, mask_frame, read_handshake
from opbx.protocol.frames import Opcode

__all__ = ["PING_MARKER", "BenchClient", "ClientError", "connect"]

PING_MARKER = b"pusher:ping"
"""Found in every Pusher-level ping; no benchmark payload contains it."""

_PONG = b'{"event":"pusher:pong","data":{}}'
_CLIENT_QUERY = "protocol=7&client=opbx-bench&version=0.1"


class ClientError(Exception):
    """The server refused the connection or a subscription."""


class BenchClient(asyncio.Protocol):
    """One Pusher connection; see the module docstring for its two modes."""

    __slots__ = (
        "_counter",
        "_handshake",
        "_key",
        "_pings",
        "_reader",
        "_request",
        "_subscriptions",
        "chunks",
        "close_code",
        "established",
        "last_receive_ns",
        "lost",
        "on_event",
        "socket_id",
        "transport",
    )

    def __init__(self, host: str, port: int, app_key: str) -> None:
        loop = asyncio.get_running_loop()
        self._handshake: bytearray | None = bytearray()
        request, self._key = handshake_request(host, port, f"/app/{app_key}?{_CLIENT_QUERY}")
        self._request = request
        self._reader = ServerFrameReader()
        self._subscriptions: dict[str, asyncio.Future[None]] = {}
        self._counter: MarkerCounter | None = None
        self._pings = MarkerCounter(PING_MARKER)
        self.transport: asyncio.Transport | None = None
        self.established: asyncio.Future[str] = loop.create_future()
        """Resolves to the socket id on ``pusher:connection_established``."""
        self.lost: asyncio.Future[None] = loop.create_future()
        """Resolves when the connection closes."""
        self.socket_id = ""
        self.close_code: int | None = None
        self.last_receive_ns = 0
        """When the last marker arrived (``time.monotonic_ns``)."""
        self.chunks: list[tuple[int, bytes]] | None = None
        """``(receive time, bytes)`` of each chunk while counting, when kept."""
        self.on_event: Callable[[dict[str, Any]], None] | None = None
        """Called with every other message (channel events), parsed, when not counting."""

    # -- asyncio.Protocol -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        self.transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        counter = self._counter
        if counter is not None:
            now = time.monotonic_ns()
            if counter.feed(data):
                self.last_receive_ns = now
            if self.chunks is not None:
                self.chunks.append((now, data))
            pings = self._pings.feed(data)
            if pings and self.transport is not None:
                self.transport.write(mask_frame(Opcode.TEXT, _PONG) * pings)
            return
        if self._handshake is not None:
            data = self._upgrade(data)
            if not data:
                return
        for opcode, payload in self._reader.feed(data):
            self._frame(opcode, payload)

    def connection_lost(self, exc: Exception | None) -> None:
        error = ClientError(f"connection lost ({exc or 'closed by the server'}, close code {self.close_code})")
        if not self.established.done():
            self.established.set_exception(error)
        for waiter in self._subscriptions.values():
            if not waiter.done():
                waiter.set_exception(error)
        if not self.lost.done():
            self.lost.set_result(None)

    # -- Pusher ---------------------------------------------------------------------

    def subscribe(self, channel: str, auth: Mapping[str, str] | None = None) -> asyncio.Future[None]:
        """Send ``pusher:subscribe`` (with an authorizer's ``{auth, channel_data}``); the future
        resolves on ``subscription_succeeded``."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._subscriptions[channel] = waiter
        self._send({"event": "pusher:subscribe", "data": {"channel": channel, **(auth or {})}})
        return waiter

    def count(self, marker: bytes, *, keep_chunks: bool = False) -> None:
        """From now on only count ``marker`` (and keep the chunks when asked)."""
        self.chunks = [] if keep_chunks else None
        self._counter = MarkerCounter(marker)
        rest = self._reader.take_rest()
        if rest:
            self.data_received(rest)

    @property
    def delivered(self) -> int:
        """Markers counted since :meth:`count`."""
        return self._counter.count if self._counter is not None else 0

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    # -- internals ------------------------------------------------------------------

    def _upgrade(self, data: bytes) -> bytes:
        buffer = self._handshake
        assert buffer is not None
        buffer += data
        try:
            end = read_handshake(buffer, self._key)
        except HandshakeError as exc:
            self.established.set_exception(ClientError(str(exc)))
            self.close()
            return b""
        if end is None:
            return b""
        self._handshake = None
        return bytes(buffer[end:])

    def _send(self, message: object) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(mask_frame(Opcode.TEXT, orjson.dumps(message)))

    def _frame(self, opcode: int, payload: bytes) -> None:
        transport = self.transport
        assert transport is not None
        if opcode == Opcode.TEXT:
            self._message(payload)
        elif opcode == Opcode.PING:
            transport.write(mask_frame(Opcode.PONG, payload))
        elif opcode == Opcode.CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            if not transport.is_closing():
                transport.write(mask_frame(Opcode.CLOSE, payload[:2]))
            self.close()

    def _message(self, payload: bytes) -> None:
        try:
            message = orjson.loads(payload)
            event = message.get("event")
        except (orjson.JSONDecodeError, AttributeError):
            return
        if event == "pusher:ping":
            assert self.transport is not None
            self.transport.write(mask_frame(Opcode.TEXT, _PONG))
        elif event == "pusher:connection_established":
            data = message.get("data")
            socket_id = orjson.loads(data).get("socket_id", "") if isinstance(data, str) else ""
            self.socket_id = str(socket_id)
            if not self.established.done():
                self.established.set_result(self.socket_id)
        elif event == "pusher_internal:subscription_succeeded":
            waiter = self._subscriptions.get(message.get("channel", ""))
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        elif event in ("pusher:error", "pusher:subscription_error"):
            self._refused(message)
        elif self.on_event is not None:
            self.on_event(message)

    def _refused(self, message: dict[str, object]) -> None:
        error = ClientError(f"refused: {orjson.dumps(message.get('data')).decode()}")
        if not self.established.done():
            self.established.set_exception(error)
            return
        channel = message.get("channel")
        waiters = [self._subscriptions[channel]] if isinstance(channel, str) and channel in self._subscriptions else []
        for waiter in waiters or list(self._subscriptions.values()):
            if not waiter.done():
                waiter.set_exception(error)


async def connect(host: str, port: int, app_key: str, within: float = 10.0) -> BenchClient:
    """Open one connection and wait (up to ``within`` s) for ``pusher:connection_established``."""
    loop = asyncio.get_running_loop()
    _, client = await asyncio.wait_for(
        loop.create_connection(lambda: BenchClient(host, port, app_key), host, port), within
    )
    try:
        await asyncio.wait_for(asyncio.shield(client.established), within)
    except BaseException:
        client.close()
        raise
    return client

"""One WebSocket client: frames in through the sans-I/O parser and session, frames out.

Outgoing frames are not written one by one: :meth:`WebSocketConnection.send` queues
them in ``out`` and the :class:`~opbx.realtime.fanout.WriteCoalescer` writes each
socket's queue in one call per loop iteration. A socket whose kernel buffer and
transport buffer fill up (a client that stops reading) is dropped with 4100 instead
of holding everyone else up.

A close the server starts lingers (RFC 6455 section 7.1.1, the server closes TCP after
the client's close): the write side is shut after the close frame and the client's input
is read and dropped until its own close frame, its EOF or a deadline. Closing with input
unread would make the kernel reset the connection and drop the close frame unsent.

The connection knows its owner only as a :class:`ConnectionOwner` (the dispatcher that
carries out its session's actions), and is given its clock, write coalescer and the
server's :class:`Lingering` set: it imports nothing that imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Union

from opbx.protocol import messages
from opbx.protocol.errors import InvalidMessage, OverCapacity, PusherError
from opbx.protocol.frames import (
    BinaryMessage,
    CloseCode,
    CloseFrame,
    FrameError,
    FrameParser,
    Opcode,
    PingFrame,
    PongFrame,
    TextMessage,
    encode_close,
    encode_frame,
    encode_text,
)
from opbx.realtime.counters import AppCounters

if TYPE_CHECKING:
    from opbx.clock import Clock
    from opbx.protocol.presence import SignedInUser
    from opbx.protocol.session import Action, Session
    from opbx.realtime.fanout import WriteCoalescer

__all__ = ["ConnectionOwner", "Lingering", "Open", "Release", "Step", "WebSocketConnection"]

log = logging.getLogger("opbx.realtime.connection")


@dataclass(frozen=True, slots=True)
class Open:
    """Lifecycle step: count the new socket against its app's quota, then greet it."""


@dataclass(frozen=True, slots=True)
class Release:
    """Lifecycle step: the socket closed; leave its channels, release its cluster state."""


Step = Union["Action", Open, Release]
"""What waits in a connection's backlog: session actions and lifecycle steps."""

_LINGER_SECONDS = 5.0
"""Seconds a closing socket gets to take its last frames and answer the close."""

_UNCOUNTED = AppCounters()
"""Where a socket counts its traffic until it is admitted to an app (never reported)."""


class ConnectionOwner(Protocol):
    """What a connection needs from the node that accepted it."""

    def perform(self, connection: WebSocketConnection, actions: list[Action]) -> None:
        """Carry out what the session answered, in order."""

    def disconnect(self, connection: WebSocketConnection) -> None:
        """The socket closed: stop delivering to it, release its state."""


class WebSocketConnection(asyncio.Protocol):
    """The transport side of one Pusher session."""

    __slots__ = (
        "_clock",
        "_fanout",
        "_garbled",
        "_lingering",
        "_owner",
        "_parser",
        "backlog",
        "closed",
        "counters",
        "out",
        "released",
        "session",
        "transport",
        "user",
    )

    def __init__(
        self,
        owner: ConnectionOwner,
        transport: asyncio.Transport,
        max_message_bytes: int,
        *,
        clock: Clock,
        fanout: WriteCoalescer,
        lingering: Lingering,
    ) -> None:
        self._owner = owner
        self._clock = clock
        self._fanout = fanout
        self._lingering = lingering
        self.transport: asyncio.Transport = transport
        self._parser = FrameParser(max_message_bytes)
        self._garbled = False
        """The client broke the framing: input is dropped unparsed while the close lingers."""
        self.out: list[bytes] = []
        """Frames waiting for the next coalesced write."""
        self.backlog: deque[Step] | None = None
        """Actions waiting behind an adapter call in progress (keeps their order)."""
        self.session: Session | None = None
        """The Pusher session, once the socket is admitted to an app (None when refused)."""
        self.closed = False
        self.released = False
        """Set once the server has started releasing this socket's state."""
        self.user: SignedInUser | None = None
        """The user this socket signed in as, once the server has recorded it."""
        self.counters = _UNCOUNTED
        """Its app's traffic counters, once the server has admitted it."""

    # -- asyncio.Protocol ---------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.closed:
            self._linger(data)
            return
        counters = self.counters
        counters.bytes_in += len(data)
        try:
            events = self._parser.feed(data)
        except FrameError as exc:
            log.warning("closing %s: %s (%d)", self._label(), exc.message, exc.close_code)
            self._garbled = True
            self.close(exc.close_code, exc.message)
            return
        session = self.session
        if session is None:
            return
        now = self._clock.monotonic()
        for event in events:
            if self.closed:
                return
            kind = type(event)
            if kind is TextMessage:
                assert isinstance(event, TextMessage)
                counters.messages_in += 1
                self._owner.perform(self, session.receive(event.text, now))
            elif kind is PingFrame:
                assert isinstance(event, PingFrame)
                session.touch(now)
                self.send_frame(encode_frame(Opcode.PONG, event.payload))
            elif kind is PongFrame:
                session.touch(now)
            elif kind is BinaryMessage:
                log.warning("refusing a binary frame from %s", self._label())
                session.touch(now)
                self.send(messages.error(InvalidMessage.code, "Binary frames are not supported; send JSON text"))
            else:
                assert isinstance(event, CloseFrame)
                self.close(event.code if event.code is not None else CloseCode.NORMAL, "")
                self.transport.close()  # the client closed first: nothing to wait for

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.out.clear()
        self._lingering.discard(self)
        self._owner.disconnect(self)

    def pause_writing(self) -> None:
        # The transport buffer passed the high-water mark: this client is not reading.
        if self.closed:
            return
        log.warning("dropping slow consumer %s", self._label())
        self.fail(OverCapacity("Client is not reading its messages fast enough"))

    def resume_writing(self) -> None:
        pass

    # -- writing --------------------------------------------------------------

    def send(self, message: bytes) -> None:
        """Queue one encoded Pusher message for the next coalesced write."""
        if self.closed:
            return
        frame = encode_text(message)
        counters = self.counters
        counters.messages_out += 1
        counters.bytes_out += len(frame)
        self._fanout.send(self, frame)

    def send_frame(self, frame: bytes) -> None:
        if not self.closed:
            self._fanout.send(self, frame)

    def fail(self, error: PusherError) -> None:
        """Send ``pusher:error`` and, when the error closes, close with its code."""
        self.send(messages.error(error.code, error.message))
        if error.closes:
            self.close(error.code, error.message)

    def close(self, code: int, reason: str) -> None:
        """Write what is queued and a close frame, shut the write side, then linger."""
        if self.closed:
            return
        self.closed = True
        self.out.append(encode_close(code, reason))
        data = b"".join(self.out)
        self.out.clear()
        transport = self.transport
        transport.write(data)
        if transport.can_write_eof():  # not under TLS: there the client's close ends the linger
            transport.write_eof()
        asyncio.get_running_loop().call_later(_LINGER_SECONDS, self.end_linger)
        self._lingering.add(self)
        self._owner.disconnect(self)

    def _linger(self, data: bytes) -> None:
        """Input after the server's close frame: dropped; the client's close frame ends the wait."""
        if self._garbled or self.transport.is_closing():
            return
        try:
            events = self._parser.feed(data)
        except FrameError:
            self._garbled = True
            return
        if any(type(event) is CloseFrame for event in events):
            self.transport.close()

    def end_linger(self) -> None:
        """The deadline: close what has sent everything, abort what still has not."""
        if self.transport.get_write_buffer_size():
            self.transport.abort()
        else:
            self.transport.close()

    def _label(self) -> str:
        return self.session.socket_id if self.session is not None else "unestablished socket"


class Lingering:
    """The sockets the server closed that still linger; stopping waits for them, then ends them."""

    __slots__ = ("_connections", "_none")

    def __init__(self) -> None:
        self._connections: set[WebSocketConnection] = set()
        self._none = asyncio.Event()
        self._none.set()

    def add(self, connection: WebSocketConnection) -> None:
        self._connections.add(connection)
        self._none.clear()

    def discard(self, connection: WebSocketConnection) -> None:
        self._connections.discard(connection)
        if not self._connections:
            self._none.set()

    async def end(self, seconds: float) -> None:
        """Give the clients ``seconds`` to answer their close, then end the linger of the rest."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._none.wait(), seconds)
        for connection in list(self._connections):
            connection.end_linger()

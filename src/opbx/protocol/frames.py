"""WebSocket framing for the server side, sans I/O (RFC 6455).

Spec: https://www.rfc-editor.org/rfc/rfc6455 (section 4.2 handshake, 5 framing, 7.4 close codes,
8.1 UTF-8 checked as it arrives).

Server frames are never masked, so one encoded frame serves every socket it is
written to: the fan-out builds it once. :class:`FrameParser` turns the bytes a client
sends into whole messages and control frames, enforcing masking, the message size
limit, the close codes a peer may send and UTF-8 in text messages (decoded as the bytes
arrive, across reads and fragments, so an invalid sequence fails fast), and raising
:class:`FrameError` with the close code RFC 6455 assigns.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import struct
from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "BinaryMessage",
    "CloseCode",
    "CloseFrame",
    "FrameError",
    "FrameParser",
    "Opcode",
    "PingFrame",
    "PongFrame",
    "TextMessage",
    "accept_key",
    "close_code_allowed",
    "encode_close",
    "encode_frame",
    "encode_text",
]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Opcode(IntEnum):
    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


class CloseCode(IntEnum):
    """RFC 6455 section 7.4.1 codes this server sends."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    INVALID_PAYLOAD = 1007
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011


def accept_key(client_key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1(client_key.encode() + _GUID).digest()).decode()  # noqa: S324 - RFC 6455


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame."""
    length = len(payload)
    first = 0x80 | opcode
    if length < 126:
        return bytes((first, length)) + payload
    if length < 65536:
        return struct.pack("!BBH", first, 126, length) + payload
    return struct.pack("!BBQ", first, 127, length) + payload


def encode_text(payload: bytes) -> bytes:
    """A text frame holding ``payload`` (UTF-8 JSON): the frame of every Pusher message."""
    length = len(payload)
    if length < 126:
        return bytes((0x81, length)) + payload
    if length < 65536:
        return struct.pack("!BBH", 0x81, 126, length) + payload
    return struct.pack("!BBQ", 0x81, 127, length) + payload


_MAX_CLOSE_REASON = 123
"""A control frame's 125 bytes less the 2-byte code (RFC 6455 section 5.5)."""


def encode_close(code: int, reason: str = "") -> bytes:
    """A close frame; the reason is cut to fit 123 bytes on a character boundary (it stays UTF-8)."""
    data = reason.encode()
    if len(data) > _MAX_CLOSE_REASON:
        # The cut can only split the last character: drop its incomplete bytes.
        data = data[:_MAX_CLOSE_REASON].decode(errors="ignore").encode()
    return encode_frame(Opcode.CLOSE, struct.pack("!H", code) + data)


def close_code_allowed(code: int) -> bool:
    """Whether a peer may send ``code`` in a close frame (RFC 6455 section 7.4.1/7.4.2).

    The registered codes less 1004 (reserved) and 1005/1006/1015 (never on the wire),
    and 3000-4999 (libraries, frameworks, applications: Pusher's 4000-4999).
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


@dataclass(frozen=True, slots=True)
class TextMessage:
    text: str


@dataclass(frozen=True, slots=True)
class BinaryMessage:
    data: bytes


@dataclass(frozen=True, slots=True)
class PingFrame:
    payload: bytes


@dataclass(frozen=True, slots=True)
class PongFrame:
    payload: bytes


@dataclass(frozen=True, slots=True)
class CloseFrame:
    code: int | None
    reason: str


FrameEvent = TextMessage | BinaryMessage | PingFrame | PongFrame | CloseFrame


class FrameError(Exception):
    """The client broke RFC 6455 or a limit; the connection closes with ``close_code``."""

    def __init__(self, close_code: CloseCode, message: str) -> None:
        self.close_code = close_code
        self.message = message
        super().__init__(message)


def _unmask(payload: bytes | bytearray, mask: bytes) -> bytes:
    length = len(payload)
    if not length:
        return b""
    # XOR as one big integer: C speed without a C extension.
    key = (mask * (length // 4 + 1))[:length]
    value = int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")
    return value.to_bytes(length, "big")


_CONTROL = frozenset((Opcode.CLOSE, Opcode.PING, Opcode.PONG))
_KNOWN = frozenset(int(op) for op in Opcode)


class FrameParser:
    """Incremental parser of client frames; feed bytes, get whole messages."""

    __slots__ = (
        "_buffer",
        "_decoder",
        "_fragment_opcode",
        "_fragment_size",
        "_fragments",
        "_partial",
        "_text",
        "max_message_bytes",
    )

    def __init__(self, max_message_bytes: int) -> None:
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        """A fragmented binary message so far."""
        self._text: list[str] = []
        """A fragmented text message so far, decoded fragment by fragment."""
        self._decoder: codecs.IncrementalDecoder | None = None
        """Decodes a text message that comes in pieces; holds a character split between them."""
        self._partial = 0
        """Payload bytes of the frame still arriving that were already decoded."""
        self._fragment_opcode: int | None = None
        self._fragment_size = 0

    def feed(self, data: bytes) -> list[FrameEvent]:
        """Parse what ``data`` completes; keep any partial frame for the next call."""
        buffer = self._buffer
        buffer += data
        events: list[FrameEvent] = []
        position = 0
        available = len(buffer)
        while available - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            opcode = first & 0x0F
            length = second & 0x7F
            header = 2
            if length == 126:
                if available - position < 4:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 4], "big")
                header = 4
            elif length == 127:
                if available - position < 10:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 10], "big")
                header = 10
            self._check_header(first, second, opcode, length)
            end = position + header + 4 + length
            if available < end:
                if opcode <= Opcode.TEXT and available - position > header + 4:
                    self._decode_partial(opcode, buffer, position + header, available)
                break
            mask = bytes(buffer[position + header : position + header + 4])
            skip = self._partial  # already decoded while the frame was arriving
            payload = _unmask(buffer[position + header + 4 + skip : end], _rotate(mask, skip) if skip else mask)
            position = end
            event = self._frame(first & 0x80, opcode, payload)
            if event is not None:
                events.append(event)
                if isinstance(event, CloseFrame):
                    break
        del buffer[:position]
        return events

    def _check_header(self, first: int, second: int, opcode: int, length: int) -> None:
        if first & 0x70:
            raise FrameError(CloseCode.PROTOCOL_ERROR, "Reserved bits set without an extension")
        if not second & 0x80:
            raise FrameError(CloseCode.PROTOCOL_ERROR, "Client frames must be masked")
        if opcode not in _KNOWN:
            raise FrameError(CloseCode.PROTOCOL_ERROR, f"Unknown opcode {opcode}")
        if opcode in _CONTROL:
            if not first & 0x80 or length > 125:
                raise FrameError(CloseCode.PROTOCOL_ERROR, "Control frames must be final and at most 125 bytes")
        elif self._fragment_size + length > self.max_message_bytes:
            raise FrameError(CloseCode.MESSAGE_TOO_BIG, f"Message larger than {self.max_message_bytes} bytes")

    def _frame(self, fin: int, opcode: int, payload: bytes) -> FrameEvent | None:
        if opcode == Opcode.PING:
            return PingFrame(payload)
        if opcode == Opcode.PONG:
            return PongFrame(payload)
        if opcode == Opcode.CLOSE:
            return self._close(payload)
        if opcode == Opcode.CONTINUATION:
            if self._fragment_opcode is None:
                raise FrameError(CloseCode.PROTOCOL_ERROR, "Continuation frame without a message")
            return self._fragment(fin, payload)
        if self._fragment_opcode is not None:
            raise FrameError(CloseCode.PROTOCOL_ERROR, "New message before the last one finished")
        if fin and self._decoder is None:  # the common case: a whole message in one frame and one read
            return TextMessage(_decode(payload)) if opcode == Opcode.TEXT else BinaryMessage(payload)
        self._fragment_opcode = opcode
        if opcode == Opcode.TEXT and self._decoder is None:
            self._decoder = _utf8_decoder()
        return self._fragment(fin, payload)

    def _decode_partial(self, opcode: int, buffer: bytearray, start: int, available: int) -> None:
        """Decode the text of a frame still arriving, to fail on invalid UTF-8 before its end.

        ``start`` is where the frame's mask begins in ``buffer``; ``available`` its end.
        """
        if opcode == Opcode.TEXT:
            if self._fragment_opcode is not None:
                return  # a protocol error, raised once the frame is whole
            if self._decoder is None:
                self._decoder = _utf8_decoder()
        decoder = self._decoder
        if decoder is None:
            return  # a binary message
        done = self._partial
        mask = bytes(buffer[start : start + 4])
        chunk = _unmask(buffer[start + 4 + done : available], _rotate(mask, done) if done else mask)
        if not chunk:
            return
        try:
            self._text.append(decoder.decode(chunk))
        except UnicodeDecodeError:
            raise FrameError(CloseCode.INVALID_PAYLOAD, "Text message is not valid UTF-8") from None
        self._partial = done + len(chunk)

    def _fragment(self, fin: int, payload: bytes) -> FrameEvent | None:
        """A frame of a message in pieces; text is decoded as it comes (RFC 6455 section 8.1)."""
        self._fragment_size += self._partial + len(payload)
        self._partial = 0
        decoder = self._decoder
        if decoder is None:
            self._fragments.append(payload)
        else:
            try:
                self._text.append(decoder.decode(payload, final=bool(fin)))
            except UnicodeDecodeError:
                raise FrameError(CloseCode.INVALID_PAYLOAD, "Text message is not valid UTF-8") from None
        if not fin:
            return None
        event: FrameEvent = (
            BinaryMessage(b"".join(self._fragments)) if decoder is None else TextMessage("".join(self._text))
        )
        self._fragments = []
        self._text = []
        self._decoder = None
        self._fragment_opcode = None
        self._fragment_size = 0
        return event

    @staticmethod
    def _close(payload: bytes) -> CloseFrame:
        if not payload:
            return CloseFrame(None, "")
        if len(payload) == 1:
            raise FrameError(CloseCode.PROTOCOL_ERROR, "Close frame with a one-byte payload")
        code = int.from_bytes(payload[:2], "big")
        if not close_code_allowed(code):
            raise FrameError(CloseCode.PROTOCOL_ERROR, f"Close code {code} may not be sent")
        try:
            reason = payload[2:].decode()
        except UnicodeDecodeError:
            raise FrameError(CloseCode.INVALID_PAYLOAD, "Close reason is not valid UTF-8") from None
        return CloseFrame(code, reason)


_utf8_decoder = codecs.getincrementaldecoder("utf-8")


def _rotate(mask: bytes, offset: int) -> bytes:
    """The mask for a payload unmasked from ``offset`` on (RFC 6455 section 5.3: byte i uses mask[i % 4])."""
    shift = offset % 4
    return mask[shift:] + mask[:shift]


def _decode(payload: bytes) -> str:
    try:
        return payload.decode()
    except UnicodeDecodeError:
        raise FrameError(CloseCode.INVALID_PAYLOAD, "Text message is not valid UTF-8") from None

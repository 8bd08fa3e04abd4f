"""The client side of RFC 6455, as little of it as a load generator needs.

Spec: https://www.rfc-editor.org/rfc/rfc6455 (4.1 client handshake, 5.2 framing, 5.3 masking).

The handshake is written by hand; frames a client sends are masked (the server closes
the connection otherwise); frames from the server are unmasked and are read by
:class:`ServerFrameReader` into whole messages and control frames.
"""

from __future__ import annotations

import base64
import os
import struct

from opbx.protocol.frames import Opcode, accept_key

__all__ = ["HandshakeError", "ServerFrameReader", "handshake_request", "mask_frame", "read_handshake"]

_HEADER_END = b"\r\n\r\n"


class HandshakeError(Exception):
    """The server did not switch protocols (or answered with a wrong accept key)."""


def handshake_request(host: str, port: int, path: str) -> tuple[bytes, str]:
    """The upgrade request for ``path`` and the ``Sec-WebSocket-Key`` it carries."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    return request.encode(), key


def read_handshake(buffer: bytes | bytearray, key: str) -> int | None:
    """Where the server's ``101`` response ends in ``buffer``; None while incomplete."""
    end = buffer.find(_HEADER_END)
    if end < 0:
        return None
    head = bytes(buffer[:end]).decode("latin-1")
    status, *lines = head.split("\r\n")
    parts = status.split(" ", 2)
    if len(parts) < 2 or parts[1] != "101":
        raise HandshakeError(f"expected 101 Switching Protocols, got {status!r}")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    if headers.get("sec-websocket-accept") != accept_key(key):
        raise HandshakeError("wrong Sec-WebSocket-Accept")
    return end + len(_HEADER_END)


def mask_frame(opcode: int, payload: bytes, mask: bytes | None = None) -> bytes:
    """One final frame, masked as every client frame must be."""
    mask = mask if mask is not None else os.urandom(4)
    length = len(payload)
    first = 0x80 | opcode
    if length < 126:
        header = bytes((first, 0x80 | length))
    elif length < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, length)
    if not length:
        return header + mask
    key = (mask * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(length, "big")
    return header + mask + masked


class ServerFrameReader:
    """Incremental reader of server frames: feed bytes, get ``(opcode, payload)`` pairs.

    Fragmented messages come out whole, under the opcode of their first frame;
    control frames come out as they arrive. No validation beyond what reading needs:
    the server is the one being measured, not the one being tested.
    """

    __slots__ = ("_buffer", "_fragments", "_opcode")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._opcode = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buffer = self._buffer
        buffer += data
        frames: list[tuple[int, bytes]] = []
        position = 0
        available = len(buffer)
        while available - position >= 2:
            first, length = buffer[position], buffer[position + 1] & 0x7F
            start = position + 2
            if length == 126:
                if available - position < 4:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 4], "big")
                start = position + 4
            elif length == 127:
                if available - position < 10:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 10], "big")
                start = position + 10
            end = start + length
            if available < end:
                break
            payload = bytes(buffer[start:end])
            position = end
            opcode = first & 0x0F
            if opcode >= Opcode.CLOSE:
                frames.append((opcode, payload))
                continue
            if opcode != Opcode.CONTINUATION:
                self._opcode = opcode
            if first & 0x80 and not self._fragments:
                frames.append((self._opcode, payload))
                continue
            self._fragments.append(payload)
            if first & 0x80:
                frames.append((self._opcode, b"".join(self._fragments)))
                self._fragments = []
        del buffer[:position]
        return frames

    def take_rest(self) -> bytes:
        """The bytes of a frame not yet complete (empty at a frame boundary); clears them."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest

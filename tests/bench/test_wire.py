"""The bench's client side of RFC 6455, checked against the server's own framing code."""

from __future__ import annotations

import pytest

from opbx.bench.wire import HandshakeError, ServerFrameReader, handshake_request, mask_frame, read_handshake
from opbx.protocol.frames import FrameParser, Opcode, PingFrame, TextMessage, accept_key, encode_frame, encode_text


def _response(key: str) -> bytes:
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
    ).encode()


def test_handshake_request_and_response() -> None:
    request, key = handshake_request("127.0.0.1", 6001, "/app/k?protocol=7")
    assert request.startswith(b"GET /app/k?protocol=7 HTTP/1.1\r\n")
    assert f"Sec-WebSocket-Key: {key}\r\n".encode() in request
    response = _response(key)
    assert read_handshake(response[:-1], key) is None
    assert read_handshake(response + b"\x81\x00", key) == len(response)


@pytest.mark.parametrize(
    "response",
    [b"HTTP/1.1 404 Not Found\r\n\r\n", b"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: wrong\r\n\r\n"],
)
def test_handshake_refusals(response: bytes) -> None:
    with pytest.raises(HandshakeError):
        read_handshake(response, "dGhlIHNhbXBsZSBub25jZQ==")


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536])
def test_masked_frames_are_what_the_server_parser_accepts(size: int) -> None:
    text = bytes(97 + index % 26 for index in range(size))
    parser = FrameParser(max_message_bytes=1 << 20)
    events = parser.feed(mask_frame(Opcode.TEXT, text) + mask_frame(Opcode.PING, b"hi"))
    assert events == [TextMessage(text.decode()), PingFrame(b"hi")]


def test_reader_handles_every_split_point_and_length_form() -> None:
    messages = [b"a" * 3, b"b" * 200, b"c" * 70000]
    stream = b"".join(encode_text(message) for message in messages) + encode_frame(Opcode.PING, b"p")
    expected = [(int(Opcode.TEXT), message) for message in messages] + [(int(Opcode.PING), b"p")]
    for split in (1, 2, 3, 5, 9, 10, 11, 205, 210, len(stream) - 1):
        reader = ServerFrameReader()
        assert reader.feed(stream[:split]) + reader.feed(stream[split:]) == expected
    reader = ServerFrameReader()
    frames = [frame for index in range(0, len(stream), 997) for frame in reader.feed(stream[index : index + 997])]
    assert frames == expected


def test_reader_joins_fragments_around_control_frames() -> None:
    first = bytes((Opcode.TEXT, 3)) + b"abc"  # FIN clear
    ping = encode_frame(Opcode.PING, b"")
    last = bytes((0x80 | Opcode.CONTINUATION, 3)) + b"def"
    reader = ServerFrameReader()
    assert reader.feed(first + ping + last) == [(Opcode.PING, b""), (Opcode.TEXT, b"abcdef")]


def test_take_rest_returns_the_partial_frame() -> None:
    reader = ServerFrameReader()
    frame = encode_text(b"hello")
    assert reader.feed(frame + frame[:3]) == [(Opcode.TEXT, b"hello")]
    assert reader.take_rest() == frame[:3]
    assert reader.take_rest() == b""

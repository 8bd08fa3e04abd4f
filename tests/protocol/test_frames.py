"""RFC 6455 framing, sans I/O: bytes in, messages and errors out."""

from __future__ import annotations

import os
import struct

import pytest

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
    accept_key,
    encode_close,
    encode_frame,
    encode_text,
)


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True, rsv: int = 0) -> bytes:
    """Build a frame as a client sends it (masked)."""
    first = (0x80 if fin else 0) | rsv | opcode
    length = len(payload)
    mask_bit = 0x80 if masked else 0
    if length < 126:
        header = bytes((first, mask_bit | length))
    elif length < 65536:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length)
    if not masked:
        return header + payload
    mask = os.urandom(4)
    return header + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


def test_accept_key_matches_rfc_example() -> None:
    # RFC 6455 section 1.3.
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize("length", [0, 5, 125, 126, 65535, 65536])
def test_server_frames_are_unmasked_with_the_shortest_length(length: int) -> None:
    payload = b"x" * length
    frame = encode_text(payload)
    assert frame[0] == 0x81
    assert frame[1] & 0x80 == 0
    header = 2 if length < 126 else 4 if length < 65536 else 10
    assert len(frame) == header + length
    assert frame == encode_frame(Opcode.TEXT, payload)


def test_close_frame_carries_code_and_a_reason_cut_to_fit() -> None:
    frame = encode_close(4001, "x" * 300)
    assert frame[0] == 0x88
    assert frame[1] == 125
    assert struct.unpack("!H", frame[2:4])[0] == 4001


def test_text_message_in_one_frame() -> None:
    parser = FrameParser(1024)
    assert parser.feed(client_frame(Opcode.TEXT, "héllo".encode())) == [TextMessage("héllo")]


def test_partial_frames_wait_for_the_rest() -> None:
    parser = FrameParser(100_000)
    data = client_frame(Opcode.TEXT, b"a" * 70_000)
    data = client_frame(Opcode.TEXT, b"a" * 70) + data
    events = []
    for index in range(0, len(data), 7):
        events.extend(parser.feed(data[index : index + 7]))
    assert events == [TextMessage("a" * 70), TextMessage("a" * 70_000)]


def test_fragmented_message_with_interleaved_ping() -> None:
    parser = FrameParser(1024)
    data = (
        client_frame(Opcode.TEXT, b"hel", fin=False)
        + client_frame(Opcode.PING, b"p")
        + client_frame(Opcode.CONTINUATION, b"lo")
    )
    assert parser.feed(data) == [PingFrame(b"p"), TextMessage("hello")]


def test_binary_pong_and_close_frames() -> None:
    parser = FrameParser(1024)
    data = (
        client_frame(Opcode.BINARY, b"\x00\x01")
        + client_frame(Opcode.PONG, b"")
        + client_frame(Opcode.CLOSE, struct.pack("!H", 1000) + b"bye")
    )
    assert parser.feed(data) == [BinaryMessage(b"\x00\x01"), PongFrame(b""), CloseFrame(1000, "bye")]


def test_empty_close_frame_has_no_code() -> None:
    assert FrameParser(10).feed(client_frame(Opcode.CLOSE, b"")) == [CloseFrame(None, "")]


def error_of(data: bytes, max_bytes: int = 1024) -> FrameError:
    with pytest.raises(FrameError) as info:
        FrameParser(max_bytes).feed(data)
    return info.value


def test_unmasked_client_frame_is_a_protocol_error() -> None:
    assert error_of(client_frame(Opcode.TEXT, b"hi", masked=False)).close_code == CloseCode.PROTOCOL_ERROR


def test_reserved_bits_are_a_protocol_error() -> None:
    assert error_of(client_frame(Opcode.TEXT, b"hi", rsv=0x40)).close_code == CloseCode.PROTOCOL_ERROR


def test_unknown_opcode_is_a_protocol_error() -> None:
    assert error_of(client_frame(0x3, b"hi")).close_code == CloseCode.PROTOCOL_ERROR


def test_fragmented_control_frame_is_a_protocol_error() -> None:
    assert error_of(client_frame(Opcode.PING, b"hi", fin=False)).close_code == CloseCode.PROTOCOL_ERROR


def test_continuation_without_start_is_a_protocol_error() -> None:
    assert error_of(client_frame(Opcode.CONTINUATION, b"hi")).close_code == CloseCode.PROTOCOL_ERROR


def test_new_message_inside_a_fragmented_one_is_a_protocol_error() -> None:
    data = client_frame(Opcode.TEXT, b"a", fin=False) + client_frame(Opcode.TEXT, b"b")
    assert error_of(data).close_code == CloseCode.PROTOCOL_ERROR


def test_oversized_message_is_refused_from_its_header() -> None:
    # Only the header arrives: the limit is enforced before the payload is buffered.
    header = client_frame(Opcode.TEXT, b"x" * 5000)[:8]
    assert error_of(header, max_bytes=4096).close_code == CloseCode.MESSAGE_TOO_BIG


def test_oversized_fragmented_message_is_refused() -> None:
    data = client_frame(Opcode.TEXT, b"x" * 600, fin=False) + client_frame(Opcode.CONTINUATION, b"x" * 600)
    assert error_of(data, max_bytes=1000).close_code == CloseCode.MESSAGE_TOO_BIG


def test_invalid_utf8_text_is_refused() -> None:
    assert error_of(client_frame(Opcode.TEXT, b"\xff\xfe")).close_code == CloseCode.INVALID_PAYLOAD


def test_one_byte_close_payload_is_a_protocol_error() -> None:
    assert error_of(client_frame(Opcode.CLOSE, b"\x03")).close_code == CloseCode.PROTOCOL_ERROR


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535])
def test_a_close_code_that_may_not_be_sent_is_a_protocol_error(code: int) -> None:
    # RFC 6455 section 7.4.1/7.4.2: reserved, unassigned and out-of-range codes fail the connection.
    assert error_of(client_frame(Opcode.CLOSE, struct.pack("!H", code))).close_code == CloseCode.PROTOCOL_ERROR


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999])
def test_a_close_code_that_may_be_sent_is_accepted(code: int) -> None:
    assert FrameParser(10).feed(client_frame(Opcode.CLOSE, struct.pack("!H", code))) == [CloseFrame(code, "")]


def test_a_close_reason_that_is_not_utf8_is_invalid_payload() -> None:
    data = client_frame(Opcode.CLOSE, struct.pack("!H", 1000) + b"\xce")
    assert error_of(data).close_code == CloseCode.INVALID_PAYLOAD


def test_a_close_reason_is_cut_on_a_character_boundary() -> None:
    # 122 ASCII bytes, then a 2-byte character that would straddle the 123-byte limit.
    frame = encode_close(4001, "x" * 122 + "é" + "y")
    reason = frame[4:]
    assert reason == b"x" * 122
    assert reason.decode() == "x" * 122
    emoji = encode_close(4001, "\U0001f600" * 40)[4:]  # 4 bytes each: 30 whole ones fit in 123
    assert emoji.decode() == "\U0001f600" * 30


def test_a_multibyte_character_split_across_fragments_is_accepted() -> None:
    encoded = "κόσμε".encode()
    data = (
        client_frame(Opcode.TEXT, encoded[:1], fin=False)
        + client_frame(Opcode.CONTINUATION, encoded[1:4], fin=False)
        + client_frame(Opcode.CONTINUATION, encoded[4:])
    )
    assert FrameParser(1024).feed(data) == [TextMessage("κόσμε")]


@pytest.mark.parametrize(
    "first",
    [
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80",  # a UTF-16 surrogate (Autobahn 6.4.1)
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80",  # above U+10FFFF (Autobahn 6.4.2)
        b"ok\xff",
    ],
)
def test_invalid_utf8_fails_in_the_first_fragment_before_the_message_ends(first: bytes) -> None:
    # Fail fast: the message is not finished, yet the sequence seen so far can never be valid.
    assert error_of(client_frame(Opcode.TEXT, first, fin=False)).close_code == CloseCode.INVALID_PAYLOAD


def test_invalid_utf8_split_across_fragments_fails_on_the_fragment_that_breaks_it() -> None:
    parser = FrameParser(1024)
    assert parser.feed(client_frame(Opcode.TEXT, b"ok\xf4", fin=False)) == []  # could still be valid
    with pytest.raises(FrameError) as info:
        parser.feed(client_frame(Opcode.CONTINUATION, b"\x90", fin=False))
    assert info.value.close_code == CloseCode.INVALID_PAYLOAD


def test_a_truncated_character_at_the_end_of_a_fragmented_message_is_refused() -> None:
    data = client_frame(Opcode.TEXT, b"ok", fin=False) + client_frame(Opcode.CONTINUATION, b"\xce")
    assert error_of(data).close_code == CloseCode.INVALID_PAYLOAD


def test_fragmented_binary_messages_are_not_checked_as_utf8() -> None:
    data = client_frame(Opcode.BINARY, b"\xff", fin=False) + client_frame(Opcode.CONTINUATION, b"\xfe")
    assert FrameParser(1024).feed(data) == [BinaryMessage(b"\xff\xfe")]


def test_invalid_utf8_fails_before_the_rest_of_its_frame_arrives() -> None:
    # Autobahn 6.4.3/6.4.4: one frame sent in pieces; the invalid sequence is in the first ones.
    data = client_frame(Opcode.TEXT, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80" + b"x" * 100)
    parser = FrameParser(1024)
    assert parser.feed(data[:12]) == []  # header, mask and valid text so far
    with pytest.raises(FrameError) as info:
        parser.feed(data[12:20])  # \xf4\x90 can never become valid; 90 payload bytes still to come
    assert info.value.close_code == CloseCode.INVALID_PAYLOAD


@pytest.mark.parametrize("fragmented", [False, True])
def test_text_fed_in_pieces_of_every_size_decodes_to_the_same_message(fragmented: bool) -> None:
    text = "κόσμε 😀 " * 40
    encoded = text.encode()
    if fragmented:
        data = (
            client_frame(Opcode.TEXT, encoded[:101], fin=False)
            + client_frame(Opcode.PING, b"p")
            + client_frame(Opcode.CONTINUATION, encoded[101:])
        )
        expected: list[object] = [PingFrame(b"p"), TextMessage(text)]
    else:
        data = client_frame(Opcode.TEXT, encoded)
        expected = [TextMessage(text)]
    for size in (1, 2, 3, 5, 7, 64):
        parser = FrameParser(4096)
        events = []
        for index in range(0, len(data), size):
            events.extend(parser.feed(data[index : index + size]))
        assert events == expected, size

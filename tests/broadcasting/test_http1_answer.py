"""Reading an HTTP/1.1 answer from bytes, without sockets: framing, connection reuse, limits."""

from __future__ import annotations

import pytest

from opbx.broadcasting.http1_answer import AnswerReader, ClosedEarly, Headers, MalformedAnswer, Response


def reader(*, no_body: bool = False, max_head: int = 1000, max_body: int = 1000) -> AnswerReader:
    return AnswerReader(no_body=no_body, max_head=max_head, max_body=max_body)


def read_at_once(wire: bytes, **options: bool) -> Response | None:
    return reader(**options).feed(wire)


def read_byte_by_byte(wire: bytes, **options: bool) -> Response | None:
    answer = reader(**options)
    results = [answer.feed(wire[index : index + 1]) for index in range(len(wire))]
    assert all(result is None for result in results[:-1]), "complete before its last byte"
    return results[-1]


WIRES = {
    "length": (b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\nX-A: 1\r\n\r\nabc", {}, (201, b"abc")),
    "chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n2;x=y\r\nab\r\nA \r\n0123456789\r\n0\r\nT: 1\r\n\r\n",
        {},
        (200, b"ab0123456789"),
    ),
    "interim first": (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz", {}, (200, b"z")),
    "head": (b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", {"no_body": True}, (200, b"")),
    "no reason": (b"HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", {}, (404, b"")),
}


@pytest.mark.parametrize(("wire", "options", "expected"), WIRES.values(), ids=WIRES.keys())
def test_the_same_answer_whether_it_arrives_at_once_or_byte_by_byte(
    wire: bytes, options: dict[str, bool], expected: tuple[int, bytes]
) -> None:
    for read in (read_at_once, read_byte_by_byte):
        response = read(wire, **options)
        assert response is not None
        assert (response.status_code, response.content) == expected


@pytest.mark.parametrize(
    ("wire", "keep_alive"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", False),
    ],
)
def test_whether_the_connection_may_carry_another_request(wire: bytes, keep_alive: bool) -> None:
    answer = reader()
    assert answer.feed(wire) is not None
    assert answer.keep_alive is keep_alive


def test_bytes_past_the_end_make_the_connection_unusable() -> None:
    answer = reader()
    response = answer.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK")
    assert response is not None
    assert response.content == b"x"
    assert not answer.keep_alive


def test_a_body_to_the_close_ends_with_a_clean_close_only() -> None:
    answer = reader()
    assert answer.feed(b"HTTP/1.1 200 OK\r\n\r\nsome") is None
    assert answer.feed(b" more") is None
    assert answer.at_close(None).content == b"some more"
    assert not answer.keep_alive
    cut = reader()
    cut.feed(b"HTTP/1.1 200 OK\r\n\r\nsome")
    with pytest.raises(ClosedEarly, match="reset"):
        cut.at_close(ConnectionResetError("by peer"))


def test_a_close_says_whether_any_of_the_answer_had_arrived() -> None:
    with pytest.raises(ClosedEarly, match="before the answer") as before:
        reader().at_close(None)
    assert not before.value.answer_started
    started = reader()
    started.feed(b"HTTP/1.1 2")
    with pytest.raises(ClosedEarly, match="in the middle") as during:
        started.at_close(None)
    assert during.value.answer_started


def test_a_head_without_end_is_refused_once_over_the_limit() -> None:
    answer = reader(max_head=100)
    assert answer.feed(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70) is None
    with pytest.raises(MalformedAnswer, match="over 100 bytes"):
        answer.feed(b"a" * 40)


def test_a_chunk_is_refused_when_announced_over_the_limit() -> None:
    with pytest.raises(MalformedAnswer, match="body over 10 bytes"):
        reader(max_body=10).feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n")


def test_header_names_in_any_case() -> None:
    wire = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-X: 1\r\nset-x: 2\r\nContent-Length: 3\r\n\r\n"
    response = read_at_once(wire + b"\xc3\xa9\xff")
    assert response is not None
    assert response.headers == Headers({"content-type": "text/plain", "set-x": "1, 2", "content-length": "3"})
    assert (response.headers["CONTENT-TYPE"], response.headers.get("Set-X"), response.headers.get("none")) == (
        "text/plain",
        "1, 2",
        None,
    )
    assert list(response.headers) == ["content-type", "set-x", "content-length"]
    assert response.text == "é\N{REPLACEMENT CHARACTER}"

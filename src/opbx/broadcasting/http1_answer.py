"""An HTTP/1.1 answer read from the bytes that arrive, without I/O; what it becomes, and its errors.

Spec: RFC 9112, https://www.rfc-editor.org/rfc/rfc9112: the status line and header fields
(sections 4 and 5; interim 1xx answers are skipped, RFC 9110 section 15.2), then the body
framed by ``Content-Length``, by the chunked transfer coding, or by the close of the
connection, in the order of section 6.3. Limits on the head and the body refuse an absurd
answer before it is held in memory. :mod:`opbx.broadcasting.http1` drives it from a socket.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_HEAD_BYTES",
    "AnswerReader",
    "ClosedEarly",
    "ConnectFailed",
    "Headers",
    "HttpError",
    "MalformedAnswer",
    "Response",
    "TimedOut",
]

MAX_HEAD_BYTES = 64 * 1024
"""Of an answer's status line and header section (or of a chunked body's trailer section)."""
MAX_BODY_BYTES = 4 * 1024 * 1024
"""Of an answer's body, by default."""

TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""A method or a field name (RFC 9110 section 5.6.2)."""
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,15}")
_MAX_CHUNK_LINE = 1024


class HttpError(Exception):
    """A request failed: no connection, no complete answer in time, or an answer we cannot read."""


class ConnectFailed(HttpError):
    """The connection (or its TLS handshake) could not be made: refused, unreachable, not trusted."""


class TimedOut(HttpError):
    """No connection within the connect timeout, or no complete answer within the request's."""


class ClosedEarly(HttpError):
    """The connection closed or was reset before the answer was complete."""

    def __init__(self, message: str, *, answer_started: bool) -> None:
        super().__init__(message)
        self.answer_started = answer_started
        """Whether any byte of the answer had arrived (then the request is never sent again)."""


class MalformedAnswer(HttpError):
    """The answer is not HTTP/1.1 as we read it, or is larger than the limits."""


class Headers(Mapping[str, str]):
    """An answer's header fields by name, in any case; a repeated field's values joined by ", "
    (RFC 9110 section 5.3)."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, str]) -> None:
        self._fields = fields
        """By lower-case name."""

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"


@dataclass(frozen=True, slots=True)
class Response:
    status_code: int
    headers: Headers
    content: bytes

    @property
    def text(self) -> str:
        """The body as UTF-8 (what the APIs we call send), undecodable bytes replaced."""
        return self.content.decode("utf-8", "replace")


# The reader's states, in the order an answer goes through them.
_HEAD, _LENGTH, _CHUNK_SIZE_LINE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _UNTIL_CLOSE = range(7)


class AnswerReader:
    """One answer, parsed from the bytes :meth:`feed` is given (RFC 9112 sections 4 to 7)."""

    __slots__ = (
        "_buffer",
        "_content",
        "_headers",
        "_max_body",
        "_max_head",
        "_no_body",
        "_remaining",
        "_size",
        "_state",
        "_status",
        "keep_alive",
        "started",
    )

    def __init__(self, *, no_body: bool, max_head: int, max_body: int) -> None:
        self._no_body = no_body
        """The request was HEAD: whatever the framing fields say, no body follows."""
        self._max_head = max_head
        self._max_body = max_body
        self._buffer = b""
        self._state = _HEAD
        self._status = 0
        self._headers = Headers({})
        self._content: list[bytes] = []
        self._size = 0
        """Of the body so far, and of the chunk announced (to refuse it before it arrives)."""
        self._remaining = 0
        self.keep_alive = False
        """The connection may carry another request once the answer is complete."""
        self.started = False
        """Some byte of the answer has arrived."""

    def feed(self, data: bytes) -> Response | None:
        """Take the next bytes; the answer once it is complete, else None. Raises
        :class:`MalformedAnswer`. Bytes past the answer's end make the connection unusable."""
        self.started = True
        buffer = self._buffer + data if self._buffer else data
        while True:
            state = self._state
            if state == _HEAD:
                end = buffer.find(b"\r\n\r\n")
                if end < 0 or end > self._max_head:
                    if len(buffer) > self._max_head:
                        raise MalformedAnswer(f"status line and header section over {self._max_head} bytes")
                    self._buffer = buffer
                    return None
                head, buffer = buffer[:end], buffer[end + 4 :]
                self._read_head(head)
            elif state == _LENGTH:
                if len(buffer) >= self._remaining:
                    self._content.append(buffer[: self._remaining])
                    return self._complete(buffer[self._remaining :])
                if buffer:  # kept as it comes: a large body is not copied again for each piece
                    self._content.append(buffer)
                    self._remaining -= len(buffer)
                self._buffer = b""
                return None
            elif state == _CHUNK_SIZE_LINE:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > _MAX_CHUNK_LINE:
                        raise MalformedAnswer("a chunk size line too long")
                    self._buffer = buffer
                    return None
                size = buffer[:end].split(b";", 1)[0].strip(b" \t")  # chunk extensions are ignored
                if not _CHUNK_SIZE.fullmatch(size):
                    raise MalformedAnswer(f"a bad chunk size {buffer[:end][:40]!r}")
                buffer = buffer[end + 2 :]
                self._remaining = int(size, 16)
                if self._remaining == 0:
                    self._state = _TRAILERS
                else:
                    self._check_body_size(self._remaining)
                    self._state = _CHUNK_DATA
            elif state == _CHUNK_DATA:
                if not buffer:
                    self._buffer = buffer
                    return None
                piece = buffer[: self._remaining]
                self._content.append(piece)
                self._remaining -= len(piece)
                buffer = buffer[len(piece) :]
                if self._remaining == 0:
                    self._state = _CHUNK_END
            elif state == _CHUNK_END:
                if len(buffer) < 2:
                    self._buffer = buffer
                    return None
                if buffer[:2] != b"\r\n":
                    raise MalformedAnswer("a chunk not followed by CRLF")
                buffer = buffer[2:]
                self._state = _CHUNK_SIZE_LINE
            elif state == _TRAILERS:  # trailer fields are read past, not kept
                if buffer[:2] == b"\r\n":
                    return self._complete(buffer[2:])
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(buffer) > self._max_head:
                        raise MalformedAnswer(f"a trailer section over {self._max_head} bytes")
                    self._buffer = buffer
                    return None
                return self._complete(buffer[end + 4 :])
            else:  # _UNTIL_CLOSE
                if buffer:
                    self._check_body_size(len(buffer))
                    self._content.append(buffer)
                self._buffer = b""
                return None

    def at_close(self, error: Exception | None) -> Response:
        """The answer as it stands when the connection closed (``error``: how, if not cleanly);
        raises :class:`ClosedEarly` unless its body was to run until the close."""
        if self._state == _UNTIL_CLOSE and error is None:
            return self._complete(b"")
        how = f"reset ({error})" if error is not None else "closed"
        if not self.started:
            raise ClosedEarly(f"connection {how} before the answer", answer_started=False)
        raise ClosedEarly(f"connection {how} in the middle of the answer", answer_started=True)

    def _read_head(self, head: bytes) -> None:
        """The status line and header fields; sets how the body is framed."""
        lines = head.split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        code = rest[:3]
        if version not in (b"HTTP/1.1", b"HTTP/1.0") or not (code.isdigit() and rest[3:4] in (b"", b" ")):
            raise MalformedAnswer(f"a bad status line {lines[0][:80]!r}")
        status = int(code)
        fields: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not TOKEN.fullmatch(name):  # also refuses obsolete line folding
                raise MalformedAnswer(f"a bad header field line {line[:80]!r}")
            key = name.decode("ascii").lower()
            text = value.strip(b" \t").decode("latin-1")
            fields[key] = f"{fields[key]}, {text}" if key in fields else text
        if 100 <= status < 200:
            if status == 101:
                raise MalformedAnswer("101 Switching Protocols to a request that asked for no upgrade")
            return  # an interim answer: the final one follows (RFC 9110 section 15.2)
        self._status = status
        self._headers = Headers(fields)
        options = {option.strip() for option in fields.get("connection", "").lower().split(",")}
        self.keep_alive = "close" not in options if version == b"HTTP/1.1" else "keep-alive" in options
        self._frame(fields)

    def _frame(self, fields: dict[str, str]) -> None:
        """How the body is delimited: RFC 9112 section 6.3, in its order."""
        if self._no_body or self._status in (204, 304):
            self._state, self._remaining = _LENGTH, 0
            return
        coding = fields.get("transfer-encoding")
        if coding is not None:
            if coding.strip().lower() != "chunked":
                raise MalformedAnswer(f"a transfer coding we did not ask for: {coding[:40]!r}")
            if "content-length" in fields:  # both: the length is ignored, and so is the connection
                self.keep_alive = False
            self._state = _CHUNK_SIZE_LINE
            return
        length = fields.get("content-length")
        if length is None:
            self._state = _UNTIL_CLOSE
            self.keep_alive = False
            return
        values = {value.strip() for value in length.split(",")}  # a repeated equal length is one
        value = values.pop()
        if values or not (value.isascii() and value.isdigit()):
            raise MalformedAnswer(f"a bad Content-Length {length[:40]!r}")
        self._remaining = int(value)
        self._check_body_size(self._remaining)
        self._state = _LENGTH

    def _check_body_size(self, more: int) -> None:
        """Count ``more`` bytes of body; refuse them if the body would exceed the limit."""
        self._size += more
        if self._size > self._max_body:
            raise MalformedAnswer(f"a body over {self._max_body} bytes")

    def _complete(self, rest: bytes) -> Response:
        if rest:  # bytes nobody asked for: the connection's framing can no longer be trusted
            self.keep_alive = False
        content = self._content[0] if len(self._content) == 1 else b"".join(self._content)
        return Response(self._status, self._headers, content)

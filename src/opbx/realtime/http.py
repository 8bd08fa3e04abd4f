"""HTTP/1.1 on the server's one port: the Pusher HTTP API and the WebSocket upgrade.

Requests are parsed by httptools (llhttp). A request on ``/app/{key}`` asking for a
WebSocket is handed to the server, which answers ``101`` and swaps this protocol for a
:class:`~opbx.realtime.connection.WebSocketConnection` on the same transport; every
other request goes to the API router. Requests on one connection are answered in
order (pipelining), with keep-alive, and with a body limit answered by 413. HEAD is
answered without content (RFC 9110 section 9.3.2) and ``Expect: 100-continue`` with an
interim ``100 Continue`` before the body is read (RFC 9110 section 10.1.1).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import cast
from urllib.parse import parse_qsl, unquote

import httptools
import orjson

__all__ = ["HttpProtocol", "HttpRequest", "HttpResponse", "error_response", "json_response"]

log = logging.getLogger("opbx.realtime.http")

_MAX_URL_BYTES = 8 * 1024
_MAX_HEADER_BYTES = 32 * 1024
_MAX_PIPELINED = 32
_LINGER_SECONDS = 2.0
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


@dataclass(slots=True)
class HttpRequest:
    """A parsed request. ``raw_path`` is the path as sent (what clients sign)."""

    method: str
    raw_path: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    keep_alive: bool = True
    received: float = 0.0
    """``time.perf_counter()`` when the request was read in full (publish latency starts here)."""


@dataclass(slots=True)
class HttpResponse:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def encode(self, keep_alive: bool, *, head: bool = False) -> bytes:
        """The response on the wire; for a HEAD request (``head``) its headers alone."""
        reason = HTTPStatus(self.status).phrase
        lines = [
            f"HTTP/1.1 {self.status} {reason}",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(self.body)}",
            "Connection: keep-alive" if keep_alive else "Connection: close",
        ]
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        encoded = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return encoded if head else encoded + self.body


def json_response(status: int, payload: object) -> HttpResponse:
    return HttpResponse(status, orjson.dumps(payload))


def error_response(status: int, message: str) -> HttpResponse:
    """The JSON error body every refusal carries: ``{"error": ..., "status": ...}``."""
    return json_response(status, {"error": message, "status": status})


RequestHandler = Callable[[HttpRequest], Awaitable[HttpResponse]]
UpgradeHandler = Callable[[asyncio.Transport, HttpRequest, bytes], None]


class _RequestTooLarge(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


class HttpProtocol(asyncio.Protocol):
    """Parses requests and answers them in order; hands WebSocket upgrades over."""

    def __init__(
        self, handle: RequestHandler, upgrade: UpgradeHandler, max_body_bytes: int, live: set[HttpProtocol]
    ) -> None:
        self._live = live
        """The server's set of open HTTP connections, so stopping can close idle keep-alives."""
        self._handle = handle
        self._upgrade = upgrade
        self._max_body_bytes = max_body_bytes
        self._transport: asyncio.Transport | None = None
        self._parser: httptools.HttpRequestParser | None = httptools.HttpRequestParser(self)
        self._url = b""
        self._headers: dict[str, str] = {}
        self._header_bytes = 0
        self._body: list[bytes] = []
        self._body_bytes = 0
        self._queue: deque[HttpRequest] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._closing = False
        self._continue_pending = False
        """A request expects ``100 Continue`` once the responses before it are written."""

    # -- asyncio.Protocol ---------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        self._live.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._live.discard(self)
        self._parser = None  # break the parser <-> protocol cycle now, not at the next full GC
        if self._worker is not None:
            self._worker.cancel()

    def data_received(self, data: bytes) -> None:
        if self._closing or self._parser is None:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._hand_over(data[upgrade.args[0] :])
        except httptools.HttpParserError as exc:
            # httptools wraps exceptions raised in callbacks; ours says what was too large.
            cause = exc.__context__
            if isinstance(cause, _RequestTooLarge):
                self._refuse(cause.status, cause.message)
            else:
                self._refuse(400, f"Malformed HTTP request: {exc}")

    # -- httptools callbacks -------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._header_bytes = 0
        self._body = []
        self._body_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > _MAX_URL_BYTES:
            raise _RequestTooLarge(414, "URL too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if self._header_bytes > _MAX_HEADER_BYTES:
            raise _RequestTooLarge(431, "Request headers too large")
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        length = self._headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._max_body_bytes:
            raise _RequestTooLarge(413, f"Request body larger than {self._max_body_bytes} bytes")
        parser = self._parser
        assert parser is not None  # only called back from feed_data
        # Never an interim response to HTTP/1.0 (RFC 9110 section 10.1.1).
        if self._headers.get("expect", "").lower() == "100-continue" and parser.get_http_version() != "1.0":
            self._continue_pending = True
            if not self._queue and self._worker is None:  # else once the responses before it are written
                self._send_continue()

    def _send_continue(self) -> None:
        self._continue_pending = False
        if self._transport is not None:
            self._transport.write(_CONTINUE)

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > self._max_body_bytes:
            raise _RequestTooLarge(413, f"Request body larger than {self._max_body_bytes} bytes")
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._continue_pending = False  # the body came without waiting: no 100 now
        request = self._request()
        assert self._parser is not None  # only called back from feed_data
        if self._parser.should_upgrade():
            self._queue.append(request)  # taken by _hand_over
            return
        self._queue.append(request)
        if len(self._queue) > _MAX_PIPELINED and self._transport is not None:
            self._transport.pause_reading()
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._answer_queue())

    def _request(self) -> HttpRequest:
        parser = self._parser
        assert parser is not None  # only called back from feed_data
        parsed = httptools.parse_url(self._url)
        raw_path = (parsed.path or b"/").decode("latin-1")
        query = dict(parse_qsl((parsed.query or b"").decode("latin-1"), keep_blank_values=True))
        return HttpRequest(
            method=parser.get_method().decode("latin-1"),
            raw_path=raw_path,
            path=unquote(raw_path),
            query=query,
            headers=self._headers,
            body=b"".join(self._body),
            keep_alive=parser.should_keep_alive(),
            received=time.perf_counter(),
        )

    # -- answering ----------------------------------------------------------------

    async def _answer_queue(self) -> None:
        transport = self._transport
        assert transport is not None
        try:
            while self._queue and not self._closing:
                request = self._queue.popleft()
                try:
                    response = await self._handle(request)
                except Exception:
                    log.exception("HTTP API handler failed for %s %s", request.method, request.path)
                    response = error_response(500, "Internal server error")
                transport.write(response.encode(request.keep_alive, head=request.method == "HEAD"))
                if not request.keep_alive:
                    self.close()
                    return
                if len(self._queue) <= _MAX_PIPELINED:
                    transport.resume_reading()
                if self._continue_pending and not self._queue:
                    self._send_continue()
        finally:
            self._worker = None

    def _hand_over(self, rest: bytes) -> None:
        transport = self._transport
        request = self._queue.pop() if self._queue else None
        if transport is None or request is None or self._worker is not None or self._queue:
            self._refuse(400, "WebSocket upgrade must not be pipelined behind other requests")
            return
        self._closing = True
        self._live.discard(self)
        self._parser = None  # the parser holds bound methods of self: free both without the GC
        self._upgrade(transport, request, rest)

    def _refuse(self, status: int, message: str) -> None:
        """Answer with an error, then close without resetting a client still sending.

        Closing with unread input makes the kernel send RST, which can destroy the
        answer before the client reads it; so the write side is shut first and the
        rest of the input is read and dropped for a moment ("lingering close").
        """
        log.info("refusing HTTP request: %d %s", status, message)
        transport = self._transport
        if transport is None or self._closing:
            return
        self._closing = True
        transport.write(error_response(status, message).encode(keep_alive=False))
        if transport.can_write_eof():
            transport.write_eof()
            asyncio.get_running_loop().call_later(_LINGER_SECONDS, transport.close)
        else:
            transport.close()

    def close(self) -> None:
        """Close the connection (the server is stopping)."""
        self._closing = True
        if self._transport is not None:
            self._transport.close()

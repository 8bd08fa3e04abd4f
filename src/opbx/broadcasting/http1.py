"""A small HTTP/1.1 client for one origin: what the ``pusher`` driver needs of HTTP, and no more.

Spec: RFC 9112, https://www.rfc-editor.org/rfc/rfc9112, with the semantics of RFC 9110. A
client talks to one origin, ``http://host:port`` or ``https://…`` (the default SSL context),
whose path, if any, prefixes every request's path. Connections are kept alive and reused,
the most recently used first; a request that finds none idle opens one, so concurrent
requests never wait for each other; at most ``max_idle`` are kept between requests.

A request is written as one buffer; its answer is read by
:class:`~opbx.broadcasting.http1_answer.AnswerReader` as the bytes arrive. A connection is
reused only after an answer read in full, with its framing intact and neither side saying
``Connection: close`` (section 9.6); one that failed, timed out or was cancelled is aborted.
A request on a reused connection that the server closed (or reset) before any byte of the
answer is sent once more, on a new connection (section 9.3.1): the server most likely closed
the idle connection as the request went out, though it may have acted on it, so this suits
callers to whom a repeat is harmless (the relay delivers at least once anyway).

Every failure raises an :class:`HttpError`, of the subclass that says what went wrong.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Mapping
from typing import cast
from urllib.parse import quote, urlsplit

from opbx.broadcasting.http1_answer import (
    MAX_BODY_BYTES,
    MAX_HEAD_BYTES,
    TOKEN,
    AnswerReader,
    ClosedEarly,
    ConnectFailed,
    Headers,
    HttpError,
    MalformedAnswer,
    Response,
    TimedOut,
)

__all__ = [
    "ClosedEarly",
    "ConnectFailed",
    "Headers",
    "HttpClient",
    "HttpError",
    "MalformedAnswer",
    "Response",
    "TimedOut",
]

_PATH_SAFE = "/!$&'()*+,;=:@%"  # RFC 3986 pchar and "/", kept as written (with any %-escape)
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~/!$&'()*+,;=:@%]*").fullmatch
_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]*").fullmatch  # RFC 3986 section 2.3
_METHODS_WITH_CONTENT = frozenset({"POST", "PUT", "PATCH"})


class _Connection(asyncio.Protocol):
    """One connection to the origin, carrying one request at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, live: set[_Connection]) -> None:
        self._loop = loop
        self._live = live
        self._transport: asyncio.Transport | None = None
        self._reader: AnswerReader | None = None
        self._answer: asyncio.Future[Response] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timeout = 0.0
        self.closed = False
        """Closed, closing, or lost: never to be used again."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses
        self._live.add(self)

    def send(self, data: bytes, reader: AnswerReader, deadline: float, timeout: float) -> asyncio.Future[Response]:
        """Write a request; the future of its answer, failed with :class:`TimedOut` at ``deadline``."""
        assert self._transport is not None
        answer: asyncio.Future[Response] = self._loop.create_future()
        self._reader, self._answer, self._timeout = reader, answer, timeout
        self._timer = self._loop.call_at(deadline, self._time_out)
        self._transport.write(data)
        return answer

    def done(self) -> None:
        """The answer was taken (or given up on): the connection is idle again, if still open."""
        if self._timer is not None:
            self._timer.cancel()
        self._reader = self._answer = self._timer = None

    def data_received(self, data: bytes) -> None:
        reader, answer = self._reader, self._answer
        if reader is None or answer is None or answer.done():
            self.abort()  # bytes while idle: the connection's framing is lost
            return
        try:
            response = reader.feed(data)
        except HttpError as error:
            answer.set_exception(error)
            self.abort()
            return
        if response is not None:
            answer.set_result(response)

    def eof_received(self) -> bool:
        self.closed = True
        return False  # the transport closes itself; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._live.discard(self)
        reader, answer = self._reader, self._answer
        if reader is None or answer is None or answer.done():
            return
        try:
            answer.set_result(reader.at_close(exc))
        except HttpError as error:
            answer.set_exception(error)

    def _time_out(self) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(TimedOut(f"no complete answer within {self._timeout:g} s"))
        self.abort()

    def close(self) -> None:
        """Close once what was written is sent (an idle connection, or one after a complete answer)."""
        self.closed = True
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()

    def abort(self) -> None:
        """Close at once, dropping anything unsent (a connection that failed)."""
        self.closed = True
        if self._transport is not None:
            self._transport.abort()


class HttpClient:
    """Requests to one origin over kept-alive connections (see the module's docstring).

    ``timeout`` bounds a whole request, connecting included; ``connect_timeout`` (at most
    ``timeout``) the making of a connection. ``ssl_context`` replaces the default context of
    an ``https`` origin.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        connect_timeout: float | None = None,
        max_idle: int = 4,
        max_head_bytes: int = MAX_HEAD_BYTES,
        max_body_bytes: int = MAX_BODY_BYTES,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http:// or https:// URL: {url!r}")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError(f"an origin has no query, fragment or credentials: {url!r}")
        secure = parts.scheme == "https"
        default_port = 443 if secure else 80
        self.url = url
        self._host = parts.hostname
        self._port = parts.port or default_port
        self._ssl = (ssl_context or ssl.create_default_context()) if secure else None
        host = f"[{self._host}]" if ":" in self._host else self._host
        authority = host if self._port == default_port else f"{host}:{self._port}"
        self._prefix = quote(parts.path.rstrip("/"), safe=_PATH_SAFE)
        self._after_target = f" HTTP/1.1\r\nHost: {authority}\r\nConnection: keep-alive\r\n"
        self._timeout = timeout
        self._connect_timeout = timeout if connect_timeout is None else min(connect_timeout, timeout)
        self._max_idle = max_idle
        self._max_head = max_head_bytes
        self._max_body = max_body_bytes
        self._idle: list[_Connection] = []
        self._live: set[_Connection] = set()
        self._closed = False

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        timeout: float | None = None,  # noqa: ASYNC109 (a deadline per request, armed with the request itself)
    ) -> Response:
        """``method`` ``path`` (under the origin's path) with ``query`` percent-encoded, and
        ``body`` (as ``content_type``) if any; ``timeout`` replaces the client's for this one."""
        if self._closed:
            raise HttpError("the client is closed")
        loop = asyncio.get_running_loop()
        seconds = self._timeout if timeout is None else timeout
        deadline = loop.time() + seconds
        data = self._encode(method, path, query, body, headers, content_type)
        no_body = method == "HEAD"
        connection = self._idle_connection()
        if connection is not None:
            try:
                return await self._exchange(connection, data, no_body, deadline, seconds)
            except ClosedEarly as closed:
                if closed.answer_started:
                    raise
            # The server closed the kept-alive connection as the request went out: once more, anew.
        connection = await self._connect(loop, deadline, seconds)
        return await self._exchange(connection, data, no_body, deadline, seconds)

    async def aclose(self) -> None:
        """Close every connection, idle or busy (a request in flight then fails)."""
        self._closed = True
        self._idle.clear()
        for connection in list(self._live):
            connection.close()
        await asyncio.sleep(0)  # their transports report the close

    def _encode(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: bytes,
        headers: Mapping[str, str] | None,
        content_type: str,
    ) -> bytes:
        """The request on the wire (RFC 9112 section 3, 5 and 6.2), all but its body as text."""
        if not TOKEN.fullmatch(method.encode()):
            raise ValueError(f"not a method: {method!r}")
        target = self._prefix + (path if _PLAIN_PATH(path) else quote(path, safe=_PATH_SAFE))
        if query:
            target += "?" + "&".join(f"{_escaped(name)}={_escaped(value)}" for name, value in query.items())
        parts = [method, " ", target, self._after_target]
        if body or method in _METHODS_WITH_CONTENT:
            parts.append(f"Content-Length: {len(body)}\r\n")
        if body:
            parts.append(f"Content-Type: {content_type}\r\n")
        if headers:
            for name, value in headers.items():
                if not TOKEN.fullmatch(name.encode()) or "\r" in value or "\n" in value:
                    raise ValueError(f"not a header field: {name!r}: {value!r}")
                parts.append(f"{name}: {value}\r\n")
        parts.append("\r\n")
        head = "".join(parts).encode("latin-1")
        return head + body if body else head

    def _idle_connection(self) -> _Connection | None:
        """The most recently used idle connection still open, if any."""
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return None

    async def _connect(self, loop: asyncio.AbstractEventLoop, deadline: float, seconds: float) -> _Connection:
        if self._closed:  # closed while the request was on a kept-alive connection
            raise HttpError("the client is closed")
        connection = _Connection(loop, self._live)
        limit = min(seconds, self._connect_timeout)
        try:
            async with asyncio.timeout_at(min(deadline, loop.time() + self._connect_timeout)):
                await loop.create_connection(lambda: connection, self._host, self._port, ssl=self._ssl)
        except TimeoutError as exc:  # before OSError: it is one
            connection.abort()
            raise TimedOut(f"no connection within {limit:g} s") from exc
        except OSError as exc:  # refused, unreachable, no such host, TLS refused
            raise ConnectFailed(f"cannot connect: {type(exc).__name__}: {exc}") from exc
        return connection

    async def _exchange(
        self, connection: _Connection, data: bytes, no_body: bool, deadline: float, seconds: float
    ) -> Response:
        """One request and its answer on ``connection``, then the connection kept idle or closed."""
        reader = AnswerReader(no_body=no_body, max_head=self._max_head, max_body=self._max_body)
        try:
            response = await connection.send(data, reader, deadline, seconds)
        except BaseException:
            connection.abort()
            raise
        finally:
            connection.done()
        if reader.keep_alive and not connection.closed and not self._closed and len(self._idle) < self._max_idle:
            self._idle.append(connection)
        else:
            connection.close()
        return response


def _escaped(text: str) -> str:
    """``text`` percent-encoded for a query string (what :func:`quote` does, sooner when plain)."""
    return text if _UNRESERVED(text) else quote(text, safe="")

"""Publishing over the Pusher HTTP API: signed ``POST /apps/{id}/events`` on keep-alive connections.

Spec: https://pusher.com/docs/channels/library_auth_reference/rest-api#generating-authentication-signatures

Requests are signed here with :mod:`opbx.protocol.signing` rather than by the
``pusher`` SDK, which refuses app ids that are not numbers (Soketi's default is
``opbx``). A :class:`Publisher` holds ``size`` connections and sends at most one
request on each at a time, so ``size`` is the number of requests in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from typing import cast
from urllib.parse import urlencode

import httptools
import orjson

from opbx.bench.target import Endpoint
from opbx.protocol.signing import body_md5, request_signature

__all__ = ["ApiConnection", "Publisher", "signed_events_request"]


def signed_events_request(endpoint: Endpoint, body: bytes, timestamp: int | None = None) -> bytes:
    """A whole ``POST /apps/{id}/events`` request for ``body``, signed, keep-alive."""
    path = f"/apps/{endpoint.app_id}/events"
    params = {
        "auth_key": endpoint.key,
        "auth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "auth_version": "1.0",
        "body_md5": body_md5(body),
    }
    params["auth_signature"] = request_signature(endpoint.secret, "POST", path, params)
    head = (
        f"POST {path}?{urlencode(params)} HTTP/1.1\r\n"
        f"Host: {endpoint.host}:{endpoint.api_port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class ApiConnection(asyncio.Protocol):
    """One keep-alive HTTP connection answering one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._body: list[bytes] = []
        self.closed = False
        self.reusable = True
        """False once the server said ``Connection: close`` (Soketi does, every time)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"bad HTTP response: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionError(f"HTTP API connection lost: {exc or 'closed by the server'}"))

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        waiter, self._waiter = self._waiter, None
        body, self._body = b"".join(self._body), []
        self.reusable = bool(self._parser.should_keep_alive())
        if waiter is not None and not waiter.done():
            waiter.set_result((self._parser.get_status_code(), body))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        """Send one whole request; return the response's status and body."""
        if self.closed or self.transport is None:
            raise ConnectionError("HTTP API connection is closed")
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self._waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)


class Publisher:
    """Publishes events to one server over ``size`` keep-alive connections."""

    def __init__(self, endpoint: Endpoint, size: int) -> None:
        self.endpoint = endpoint
        self.size = size
        self._idle: asyncio.Queue[ApiConnection] = asyncio.Queue()
        self._all: set[ApiConnection] = set()
        self.connections_opened = 0
        """HTTP connections opened: ``size`` if the server keeps them alive."""
        self.ok = 0
        """Publishes the server accepted."""
        self.errors: Counter[str] = Counter()
        """Publishes it refused or lost, by reason."""

    async def open(self) -> None:
        for _ in range(self.size):
            self._idle.put_nowait(await self._connect())

    async def _connect(self) -> ApiConnection:
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(ApiConnection, self.endpoint.host, self.endpoint.api_port)
        self._all.add(connection)
        self.connections_opened += 1
        return connection

    async def publish(self, channel: str, event: str, data: Callable[[], str]) -> bool:
        """Publish one event whose data ``data()`` makes as the request is sent; True if accepted.

        Waits for a free connection first, so at most ``size`` requests are in flight.
        A refusal counts as one even with status 200 when the body holds an error (Soketi).
        """
        connection = await self._idle.get()
        try:
            if connection.closed or not connection.reusable:
                connection.close()
                self._all.discard(connection)
                connection = await self._connect()
            body = orjson.dumps({"name": event, "channel": channel, "data": data()})
            status, answer = await connection.request(signed_events_request(self.endpoint, body))
        except (ConnectionError, OSError) as exc:
            self.errors[f"{type(exc).__name__}: {exc}"] += 1
            return False
        finally:
            self._idle.put_nowait(connection)
        if status != 200 or b'"error"' in answer:
            self.errors[f"HTTP {status}: {answer[:200].decode(errors='replace')}"] += 1
            return False
        self.ok += 1
        return True

    def close(self) -> None:
        for connection in self._all:
            connection.close()

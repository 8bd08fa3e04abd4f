"""A real HTTP endpoint that receives webhooks, as an app's server would, and records them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Received:
    """One request as it arrived."""

    headers: dict[str, str]
    body: bytes
    status: int
    """What the receiver answered."""

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = json.loads(self.body)["events"]
        return events

    def signed_by(self, secret: str) -> bool:
        expected = hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("x-pusher-signature", ""))


@dataclass
class WebhookReceiver:
    """``asyncio`` HTTP/1.1 server; ``answer`` decides each request's status (200 by default)."""

    answer: Callable[[int], int] = lambda _: 200
    """Called with the request's number (0 first), returns the status to answer."""
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self) -> WebhookReceiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/pusher/webhooks"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self._writers:  # keep-alive connections of the sender
                writer.close()
            await self._server.wait_closed()
            self._server = None

    def accepted(self) -> list[Received]:
        return [request for request in self.received if 200 <= request.status < 300]

    def accepted_events(self) -> list[dict[str, Any]]:
        return [event for request in self.accepted() for event in request.events]

    async def wait_for(self, condition: Callable[[WebhookReceiver], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: condition(self))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = self.answer(len(self.received))
                async with self._arrived:
                    self.received.append(Received(headers, body, status))
                    self._arrived.notify_all()
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

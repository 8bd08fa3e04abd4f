"""One keep-alive HTTP (or HTTPS) connection for plain requests: health checks, metrics."""

from __future__ import annotations

import asyncio
import http.client
import json
import ssl
from typing import Any


class KeepAlive:
    """Requests one after the other on the same TCP connection."""

    def __init__(self, port: int, *, context: ssl.SSLContext | None = None) -> None:
        if context is None:
            self._connection: http.client.HTTPConnection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        else:
            self._connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)

    def _get(self, path: str) -> tuple[int, Any]:
        self._connection.request("GET", path)
        response = self._connection.getresponse()
        body = response.read()
        return response.status, json.loads(body) if body else None

    async def get(self, path: str) -> tuple[int, Any]:
        """Status and JSON body of ``GET path`` (off the loop: the server may run on it)."""
        return await asyncio.to_thread(self._get, path)

    def close(self) -> None:
        self._connection.close()


async def get(port: int, path: str) -> tuple[int, Any]:
    """One request on a connection of its own."""
    client = KeepAlive(port)
    try:
        return await client.get(path)
    finally:
        client.close()

"""A TCP proxy that can be cut and restored: a network outage between a client and a server."""

from __future__ import annotations

import asyncio
import contextlib
from typing import cast


class _Side(asyncio.Protocol):
    """One end of a proxied connection; what it receives goes out of its peer."""

    def __init__(self, proxy: TcpProxy) -> None:
        self._proxy = proxy
        self.transport: asyncio.Transport | None = None
        self.peer: _Side | None = None
        self._early: list[bytes] = []
        self._closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses
        self._proxy._transports.add(self.transport)

    def link(self, peer: _Side) -> None:
        self.peer = peer
        if peer.transport is not None:
            for chunk in self._early:
                peer.transport.write(chunk)
        self._early.clear()

    def data_received(self, data: bytes) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.write(data)
        else:
            self._early.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self.transport is not None:
            self._proxy._transports.discard(self.transport)
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()


class _Downstream(_Side):
    """The accepted side: connects upstream, then pipes both ways."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        task = asyncio.get_running_loop().create_task(self._connect())
        self._proxy._tasks.add(task)
        task.add_done_callback(self._proxy._tasks.discard)

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, upstream = await loop.create_connection(
                lambda: _Side(self._proxy), self._proxy.upstream_host, self._proxy.upstream_port
            )
        except OSError:
            if self.transport is not None:
                self.transport.close()
            return
        if self._closed:
            assert upstream.transport is not None
            upstream.transport.close()
            return
        upstream.link(self)
        self.link(upstream)


class TcpProxy:
    """Listens on ``port`` (any free one at first) and forwards every connection upstream.

    :meth:`cut` stops listening and aborts every live connection (new ones are refused);
    :meth:`restore` listens again on the same port.
    """

    def __init__(self, upstream_host: str, upstream_port: int, *, host: str = "127.0.0.1") -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.host = host
        self.port = 0
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.Transport] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def connections(self) -> int:
        """Open sockets, both sides counted."""
        return len(self._transports)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Downstream(self), self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def restore(self) -> None:
        assert self._server is None, "the proxy is not cut"
        await self.start()

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for transport in list(self._transports):
            transport.abort()
        for _ in range(100):  # connection_lost runs on the next iterations of the loop
            if not self._transports:
                break
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        await self.cut()

"""Many bench clients as one: opened in batches, subscribed to one channel, counted together.

Connections open ``batch`` at a time, so the server's accept backlog is never asked to
hold more than that; a connection that fails is recorded, not fatal, and the figures
are computed over those that succeeded.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from opbx.bench.client import BenchClient, ClientError, connect
from opbx.bench.target import Endpoint

__all__ = ["Fleet"]


class Fleet:
    """Open connections to one server, possibly all subscribed to one channel."""

    def __init__(self, clients: list[BenchClient], failures: Counter[str]) -> None:
        self.clients = clients
        self.failures = failures
        """Why connections failed to open, with how many failed for each reason."""

    @classmethod
    async def open(
        cls, endpoint: Endpoint, count: int, *, channel: str | None = None, batch: int = 500, within: float = 30.0
    ) -> Fleet:
        """Open ``count`` connections (subscribed to ``channel`` if given), ``batch`` at a time."""
        clients: list[BenchClient] = []
        failures: Counter[str] = Counter()
        for start in range(0, count, batch):
            size = min(batch, count - start)
            outcomes = await asyncio.gather(
                *(_open_one(endpoint, channel, within) for _ in range(size)), return_exceptions=True
            )
            for outcome in outcomes:
                if isinstance(outcome, BenchClient):
                    clients.append(outcome)
                elif isinstance(outcome, ClientError | OSError | TimeoutError):
                    failures[f"{type(outcome).__name__}: {outcome}"] += 1
                else:
                    raise outcome
        return cls(clients, failures)

    def __len__(self) -> int:
        return len(self.clients)

    def count(self, marker: bytes, *, keep_chunks: bool = False) -> None:
        """Switch every client to counting ``marker`` (see :meth:`BenchClient.count`)."""
        for client in self.clients:
            client.count(marker, keep_chunks=keep_chunks)

    @property
    def delivered(self) -> int:
        """Markers counted by all clients."""
        return sum(client.delivered for client in self.clients)

    @property
    def last_receive_ns(self) -> int:
        """When the last marker reached any client (``time.monotonic_ns``)."""
        return max((client.last_receive_ns for client in self.clients), default=0)

    @property
    def lost(self) -> int:
        """Connections that closed since they opened."""
        return sum(1 for client in self.clients if client.lost.done())

    async def drain(self, expected: int, idle_timeout: float, poll: float = 0.005) -> int:
        """Wait until ``expected`` markers arrived, or none for ``idle_timeout`` s; return the count."""
        delivered = self.delivered
        progress_at = time.monotonic()
        while delivered < expected:
            await asyncio.sleep(poll)
            now_delivered = self.delivered
            if now_delivered != delivered:
                delivered, progress_at = now_delivered, time.monotonic()
            elif time.monotonic() - progress_at > idle_timeout:
                break
        return delivered

    async def close(self, grace: float = 10.0) -> None:
        """Close every connection and wait (up to ``grace`` s) until they are closed."""
        for client in self.clients:
            client.close()
        pending = [client.lost for client in self.clients if not client.lost.done()]
        if pending:
            await asyncio.wait(pending, timeout=grace)


async def _open_one(endpoint: Endpoint, channel: str | None, within: float) -> BenchClient:
    client = await connect(endpoint.host, endpoint.port, endpoint.key, within)
    if channel is not None:
        try:
            await asyncio.wait_for(asyncio.shield(client.subscribe(channel)), within)
        except BaseException:
            client.close()
            raise
    return client

"""Scenario ``connections``: what an idle connection costs the server in memory.

M connections are opened in batches and left idle (connected, not subscribed); the
server's resident memory (``VmRSS``) is read before and after, and the growth is
divided by the connections established. Needs the server's process (spawned or
``--server-pid``) for the memory figure; without it only the count is reported.
"""

from __future__ import annotations

import asyncio
import resource
import time
from dataclasses import dataclass, field

from opbx.bench.fleet import Fleet
from opbx.bench.target import Endpoint, ServerProcess

__all__ = ["ConnectionsParams", "ConnectionsResult", "raise_open_files_limit", "run_connections"]


@dataclass(frozen=True, slots=True)
class ConnectionsParams:
    connections: int = 10_000
    batch: int = 500
    """Connections opened at once (kept under the server's accept backlog)."""
    settle: float = 2.0
    """Seconds to wait after the last connection before reading memory."""


@dataclass(frozen=True, slots=True)
class ConnectionsResult:
    params: ConnectionsParams
    established: int
    """Connections open when memory was read."""
    open_s: float
    """Seconds it took to open them all."""
    rss_before_kb: int | None
    rss_after_kb: int | None
    kb_per_connection: float | None
    lost_connections: int
    connect_failures: dict[str, int] = field(default_factory=dict)

    name = "connections"

    @property
    def ok(self) -> bool:
        return self.established == self.params.connections

    def heading(self) -> str:
        p = self.params
        return f"connections: {p.connections} idle connections, opened {p.batch} at a time"

    def rows(self) -> list[tuple[str, str]]:
        def kb(value: float | None) -> str:
            if value is None:
                return "-" if self.rss_before_kb is not None else "- (needs --spawn or --server-pid)"
            return f"{value:,.1f} KB"

        rate = self.established / self.open_s if self.open_s else 0.0
        return [
            ("established", f"{self.established} of {self.params.connections}"),
            ("opened in", f"{self.open_s:.1f} s ({rate:,.0f}/s)"),
            ("server RSS before", kb(self.rss_before_kb)),
            ("server RSS after", kb(self.rss_after_kb)),
            ("RSS per connection", kb(self.kb_per_connection)),
        ]


def raise_open_files_limit() -> int:
    """Raise this process's open-files limit to its hard limit (children inherit it); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def run_connections(
    endpoint: Endpoint, params: ConnectionsParams, server: ServerProcess | None
) -> ConnectionsResult:
    """Run the scenario against ``endpoint``; ``server`` (if known) gives the memory figures."""
    raise_open_files_limit()
    before = server.rss_kb() if server is not None else None
    start = time.monotonic()
    fleet = await Fleet.open(endpoint, params.connections, batch=params.batch)
    opened = time.monotonic() - start
    try:
        await asyncio.sleep(params.settle)
        after = server.rss_kb() if server is not None else None
        lost = fleet.lost
    finally:
        await fleet.close()
    established = len(fleet) - lost
    per_connection = None
    if before is not None and after is not None and established:
        per_connection = (after - before) / established
    return ConnectionsResult(
        params=params,
        established=established,
        open_s=opened,
        rss_before_kb=before,
        rss_after_kb=after,
        kb_per_connection=per_connection,
        lost_connections=lost,
        connect_failures=dict(fleet.failures),
    )

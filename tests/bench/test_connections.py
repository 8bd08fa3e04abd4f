"""The connections scenario, tiny, against an in-process server."""

from __future__ import annotations

import os
import resource

from opbx.bench.connections import ConnectionsParams, raise_open_files_limit, run_connections
from opbx.bench.target import Endpoint, ServerProcess
from opbx.realtime.server import RealtimeServer
from tests.helpers.apps import TEST_APP


async def test_opens_every_connection_and_reads_memory(server: RealtimeServer) -> None:
    endpoint = Endpoint("127.0.0.1", server.port, TEST_APP.id, TEST_APP.key, TEST_APP.secret)
    params = ConnectionsParams(connections=60, batch=25, settle=0.1)
    result = await run_connections(endpoint, params, ServerProcess.attach(os.getpid()))
    assert result.established == 60
    assert not result.connect_failures
    assert result.rss_before_kb is not None
    assert result.rss_after_kb is not None
    assert result.kb_per_connection is not None
    assert result.ok


async def test_without_the_server_process_only_counts(server: RealtimeServer) -> None:
    endpoint = Endpoint("127.0.0.1", server.port, TEST_APP.id, TEST_APP.key, TEST_APP.secret)
    result = await run_connections(endpoint, ConnectionsParams(connections=5, settle=0), None)
    assert result.established == 5
    assert result.kb_per_connection is None
    assert "needs --spawn" in dict(result.rows())["RSS per connection"]


def test_open_files_limit_is_raised_to_the_hard_limit() -> None:
    limit = raise_open_files_limit()
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (limit, limit)

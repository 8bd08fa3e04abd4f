"""Shared fixtures: real servers on ephemeral ports, driven on uvloop."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvloop

from opbx.adapters.base import Adapter
from opbx.db.engine import Database
from opbx.realtime.config import ServerConfig
from opbx.realtime.server import RealtimeServer
from tests.helpers.apps import ALL_APPS
from tests.helpers.clock import ManualClock
from tests.helpers.databases import PostgresForTests
from tests.helpers.world import World, build_world

ServerFactory = Callable[..., Awaitable[RealtimeServer]]


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Callable[[], Any]]:
    """Every async test runs on uvloop, the loop the server runs on in production."""
    if os.environ.get("OPBX_TEST_LOOP") == "asyncio":  # to debug a hang at loop close
        return {"asyncio": asyncio.new_event_loop}
    return {"uvloop": uvloop.new_event_loop}


@pytest.fixture
async def make_server() -> AsyncIterator[ServerFactory]:
    """Start servers with the test apps; ``clock=``, ``adapter=`` and config fields as keywords."""
    servers: list[RealtimeServer] = []

    async def make(clock: ManualClock | None = None, adapter: Adapter | None = None, **settings: Any) -> RealtimeServer:
        config = dataclasses.replace(ServerConfig(host="127.0.0.1", port=0, metrics_port=0, apps=ALL_APPS), **settings)
        server = RealtimeServer(config, clock=clock, adapter=adapter)
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.stop()


@pytest.fixture
async def server(make_server: ServerFactory) -> RealtimeServer:
    return await make_server()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresForTests]:
    """A throwaway PostgreSQL database for the session (fails if PostgreSQL is down)."""
    database = PostgresForTests()
    asyncio.run(database.create())
    yield database
    asyncio.run(database.drop())


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, postgres: PostgresForTests
) -> AsyncIterator[Database]:
    """The same tests on both databases: a migrated, empty SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path}/opbx.sqlite3")
        await database.migrate()
    else:
        database = await postgres.fresh()
    yield database
    await database.dispose()


@pytest.fixture
async def world(database: Database) -> World:
    return await build_world(database)

"""Shared fixtures: real servers on ephemeral ports, driven on uvloop; markers from the fixtures a test uses.

A test that uses PostgreSQL or Redis is marked ``postgres`` or ``redis``, and every test that
starts servers or uses a service is marked ``integration``, by :func:`pytest_collection_modifyitems`
from its fixtures (so a new test cannot forget): ``pytest -m "not integration"`` needs no service.
"""

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
from tests.helpers.redis import REDIS_URL, delete_prefix, unique_prefix
from tests.helpers.world import World, build_world

ServerFactory = Callable[..., Awaitable[RealtimeServer]]

SERVICE_FIXTURES = {"postgres": "postgres", "redis_url": "redis"}
"""Fixtures that reach a service, and the marker of the service."""
SERVICE_PARAMETERS = {"postgresql": "postgres", "redis": "redis"}
"""Values of fixture parameters that choose a service (``database[postgresql]``, ``make_node[redis]``)."""
SERVER_FIXTURES = {"make_server", "server"}
"""Fixtures that start a realtime server on a port."""


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it uses: ``postgres``, ``redis``, and ``integration`` for those and servers."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        services = {marker for name, marker in SERVICE_FIXTURES.items() if name in fixtures}
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            chosen = [value for value in callspec.params.values() if isinstance(value, str)]
            services |= {SERVICE_PARAMETERS[value] for value in chosen if value in SERVICE_PARAMETERS}
        for marker in sorted(services):
            item.add_marker(marker)
        explicit = any(item.get_closest_marker(marker) for marker in SERVICE_PARAMETERS.values())
        if services or explicit or fixtures & SERVER_FIXTURES:
            item.add_marker("integration")


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
    """A throwaway PostgreSQL database for the session, created by its first ``fresh()`` (which fails
    if PostgreSQL is down) and dropped at the end."""
    database = PostgresForTests()
    yield database
    if database.created:
        asyncio.run(database.drop())


@pytest.fixture
def redis_url() -> str:
    """The machine's Redis (``REDIS_URL``): a test that takes it, or ``redis_prefix``, is marked ``redis``."""
    return REDIS_URL


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of the test's own in the machine's Redis, its keys deleted afterwards."""
    prefix = unique_prefix()
    yield prefix
    await delete_prefix(prefix, redis_url)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The same tests on both databases: a migrated, empty SQLite file or PostgreSQL database.

    PostgreSQL is reached only by the ``postgresql`` variant, so the SQLite one runs without it.
    """
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path}/opbx.sqlite3")
        await database.migrate()
    else:
        postgres: PostgresForTests = request.getfixturevalue("postgres")
        database = await postgres.fresh()
    yield database
    await database.dispose()


@pytest.fixture
async def world(database: Database) -> World:
    return await build_world(database)

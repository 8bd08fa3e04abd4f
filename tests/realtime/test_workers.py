"""``opbx realtime --workers 2``: two processes on one port, one cluster over Redis."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.helpers.apps import TEST_APP
from tests.helpers.http_api import api_request
from tests.helpers.nodes import Node, free_port
from tests.helpers.pusher_client import PusherClient, told_to_reconnect
from tests.helpers.scrape import scrape, value

pytestmark = pytest.mark.integration

KEY, SECRET = TEST_APP.key, TEST_APP.secret


def _two_free_ports() -> int:
    """A port ``p`` with ``p + 1`` free too: the workers' metrics ports."""
    while True:
        port = free_port()
        if port < 65535:
            try:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


@pytest.fixture
async def workers(tmp_path: Path, redis_url: str, redis_prefix: str) -> AsyncIterator[tuple[Node, int]]:
    metrics = _two_free_ports()
    node = Node(tmp_path, redis_url, redis_prefix, extra_args=("--workers", "2", "--metrics-port", str(metrics)))
    node.start()
    for port in (metrics, metrics + 1):  # the node answers once one worker listens; wait for both
        await _listening(port)
    yield node, metrics
    node.stop()


async def _listening(port: int) -> None:
    for _ in range(400):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise AssertionError(f"nothing listens on {port}")


async def _connections(port: int) -> float:
    return value(await scrape(port), "opbx_connections", app_id=TEST_APP.id)


async def test_two_workers_share_the_port_and_every_client_gets_each_event(workers: tuple[Node, int]) -> None:
    node, metrics = workers
    clients = [await PusherClient.connect(node.port, TEST_APP.key) for _ in range(24)]
    for client in clients:
        await client.subscribe("news")
    # The kernel spreads connections over both processes (24 connections all on one: 2**-23).
    per_worker = [await _connections(metrics), await _connections(metrics + 1)]
    assert sum(per_worker) == 24
    assert all(count > 0 for count in per_worker), per_worker

    body = json.dumps({"name": "tick", "channel": "news", "data": "{}"}).encode()
    status, _ = await api_request(node.port, "POST", f"/apps/{TEST_APP.id}/events", key=KEY, secret=SECRET, body=body)
    assert status == 200
    for client in clients:
        event = await client.expect("tick")
        assert event["channel"] == "news"
    for client in clients:
        await client.nothing_within(0.05)

    status, info = await api_request(
        node.port,
        "GET",
        f"/apps/{TEST_APP.id}/channels/news",
        key=KEY,
        secret=SECRET,
        params={"info": "subscription_count"},
    )
    assert status == 200
    assert info["subscription_count"] == 24

    # SIGTERM to the parent reaches each worker: every client is told to reconnect (4200).
    assert node.process is not None
    node.process.send_signal(signal.SIGTERM)
    for client in clients:
        _, code = await told_to_reconnect(client)
        assert code == 4200
    assert await asyncio.to_thread(node.process.wait, 15) == 0


async def test_several_workers_need_the_redis_adapter(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        *("opbx", "realtime", "--workers", "2", "--port", str(free_port()), "--no-metrics"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": str(Path(sys.executable).parent), "OPBX_ADAPTER": "local"},
    )
    _, stderr = await process.communicate()
    assert process.returncode == 2
    assert b"OPBX_ADAPTER=redis" in stderr


async def test_a_start_up_refusal_stops_every_worker_in_one_line(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            *("opbx", "realtime", "--workers", "2", "--port", str(port), "--no-metrics"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={
                "PATH": str(Path(sys.executable).parent),
                "OPBX_ADAPTER": "redis",
                "OPBX_REDIS_URL": redis_url,
                "OPBX_REDIS_PREFIX": redis_prefix,
            },
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2, stderr
    assert b"Traceback" not in stderr
    refusals = [line for line in stderr.decode().splitlines() if line.startswith("opbx:")]
    assert len(refusals) == 1, stderr
    assert f"127.0.0.1:{port} is already in use" in refusals[0]

"""The server under test: spawning ours, reading any process through /proc."""

from __future__ import annotations

import os
import socket

import pytest

from opbx.bench.publisher import Publisher
from opbx.bench.target import Endpoint, ServerError, ServerProcess, free_port, spawn_opbx, wait_until_listening


def test_attach_reads_a_process() -> None:
    process = ServerProcess.attach(os.getpid())
    assert f"pid {os.getpid()}" in process.description
    assert not process.spawned
    assert process.rss_kb() > 0
    assert process.cpu_seconds() > 0
    process.stop()  # leaves an external process alone
    assert process.rss_kb() > 0


def test_attach_refuses_a_missing_process() -> None:
    with pytest.raises(ServerError, match="no process"):
        ServerProcess.attach(2**22 + 1)


def test_pin_sets_every_thread() -> None:
    process = ServerProcess.attach(os.getpid())
    cpus = os.sched_getaffinity(0)
    cpu = min(cpus)
    try:
        assert process.pin(cpu) == len(os.listdir(f"/proc/{os.getpid()}/task"))
        assert os.sched_getaffinity(0) == {cpu}
        assert process.cpu == cpu
    finally:
        for tid in os.listdir(f"/proc/{os.getpid()}/task"):
            os.sched_setaffinity(int(tid), cpus)


def test_waiting_for_a_port_nobody_listens_on_fails() -> None:
    port = free_port("127.0.0.1")
    with pytest.raises(ServerError, match="nothing listens"):
        wait_until_listening("127.0.0.1", port, timeout=0.2)


@pytest.mark.integration
async def test_spawned_server_hosts_the_app_and_stops() -> None:
    endpoint = Endpoint("127.0.0.1", free_port("127.0.0.1"), "bench-app", "bench-key", "bench-secret")
    server = spawn_opbx(endpoint)
    try:
        assert server.spawned
        assert "opbx realtime" in server.description
        publisher = Publisher(endpoint, 1)
        await publisher.open()
        assert await publisher.publish("c", "e", lambda: "data")
        publisher.close()
    finally:
        server.stop()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", endpoint.port), timeout=1):
        pass

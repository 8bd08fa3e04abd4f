"""Health checks for load balancers: /, /ready and /accept-traffic on the server's port."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from opbx.adapters.redis import RedisAdapter
from opbx.configuration import ConfigError
from opbx.realtime.config import load_config
from opbx.realtime.health import memory_limit, memory_use, resident_memory
from opbx.realtime.server import RealtimeServer
from tests.conftest import ServerFactory
from tests.helpers.plain_http import KeepAlive, get
from tests.helpers.redis import unique_prefix

GIB = 1024**3


async def test_a_running_server_is_alive_ready_and_accepts_traffic(server: RealtimeServer) -> None:
    assert await get(server.port, "/") == (200, {"ok": True})
    assert await get(server.port, "/ready") == (200, {"ready": True})
    status, body = await get(server.port, "/accept-traffic")
    assert status == 200
    assert body["accept_traffic"] is True
    assert 0 < body["memory_percent"] < body["threshold_percent"] == 85.0


async def test_accept_traffic_answers_503_above_the_memory_threshold(make_server: ServerFactory) -> None:
    # Any running Python process uses more than a millionth of a percent of the machine.
    server = await make_server(accept_traffic_memory_threshold=0.000001)
    status, body = await get(server.port, "/accept-traffic")
    assert status == 503
    assert body["accept_traffic"] is False
    assert await get(server.port, "/ready") == (200, {"ready": True})  # ready, only full


async def test_a_shutting_down_server_is_not_ready(server: RealtimeServer) -> None:
    port = server.port
    client = KeepAlive(port)
    try:
        assert await client.get("/ready") == (200, {"ready": True})
        server.begin_shutdown()
        # The port no longer accepts connections; an open one still gets its answers.
        assert await client.get("/ready") == (503, {"ready": False})
        status, body = await client.get("/accept-traffic")
        assert (status, body["accept_traffic"]) == (503, False)
        assert (await client.get("/"))[0] == 200
    finally:
        client.close()
    with pytest.raises(ConnectionRefusedError):
        await get(port, "/")


async def test_a_server_not_yet_started_is_not_ready() -> None:
    config = load_config(None, {}, port=0, metrics_port=0)
    assert RealtimeServer(config).ready is False


async def test_a_node_whose_redis_is_unreachable_is_not_ready(make_server: ServerFactory) -> None:
    with port_nobody_listens_on() as port:
        adapter = RedisAdapter(f"redis://127.0.0.1:{port}/0", prefix=unique_prefix())
        assert adapter.healthy is False
        server = await make_server(adapter=adapter)
        assert await get(server.port, "/ready") == (503, {"ready": False})
        assert (await get(server.port, "/"))[0] == 200  # alive: it still serves its own sockets


async def test_a_node_whose_redis_answers_is_ready(
    make_server: ServerFactory, redis_url: str, redis_prefix: str
) -> None:
    server = await make_server(adapter=RedisAdapter(redis_url, prefix=redis_prefix))
    assert await get(server.port, "/ready") == (200, {"ready": True})


@contextlib.contextmanager
def port_nobody_listens_on() -> Iterator[int]:
    """A port bound but not listening: connections to it are refused."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        port: int = bound.getsockname()[1]
        yield port


# -- reading memory from /proc and the cgroup files -----------------------------------


def fake_proc(root: Path, cgroup: str, mem_total_kib: int = 16 * 1024 * 1024) -> Path:
    proc = root / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "meminfo").write_text(f"MemTotal:       {mem_total_kib} kB\nMemFree:        1000 kB\n")
    (proc / "self" / "cgroup").write_text(cgroup)
    (proc / "self" / "statm").write_text("5000 1000 300 10 0 900 0\n")
    return proc


def test_without_a_cgroup_limit_the_machine_memory_counts(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, "0::/\n")
    (tmp_path / "cgroup").mkdir()
    (tmp_path / "cgroup" / "memory.max").write_text("max\n")
    assert memory_limit(proc, tmp_path / "cgroup") == 16 * GIB


def test_a_cgroup_v2_limit_counts_when_lower(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, "0::/system.slice/opbx.service\n")
    service = tmp_path / "cgroup" / "system.slice" / "opbx.service"
    service.mkdir(parents=True)
    (service / "memory.max").write_text("max\n")
    (service.parent / "memory.max").write_text(f"{2 * GIB}\n")  # set on the parent: it applies too
    assert memory_limit(proc, tmp_path / "cgroup") == 2 * GIB


def test_a_cgroup_v1_limit_counts_and_its_unlimited_value_does_not(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, "5:devices:/\n4:memory:/docker/abc\n0::/\n")
    memory = tmp_path / "cgroup" / "memory"
    (memory / "docker" / "abc").mkdir(parents=True)
    (memory / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (memory / "docker" / "abc" / "memory.limit_in_bytes").write_text(f"{GIB}\n")
    assert memory_limit(proc, tmp_path / "cgroup") == GIB
    (memory / "docker" / "abc" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert memory_limit(proc, tmp_path / "cgroup") == 16 * GIB


def test_memory_use_is_resident_memory_over_the_limit(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, "0::/\n", mem_total_kib=4 * 1024 * 1024)
    use = memory_use(proc, tmp_path / "no-cgroups")
    assert use.resident_bytes == 1000 * os.sysconf("SC_PAGE_SIZE")
    assert use.percent == pytest.approx(100 * use.resident_bytes / (4 * GIB))


def test_this_process_memory_is_read_from_the_real_proc() -> None:
    use = memory_use()
    assert 0 < use.resident_bytes == pytest.approx(resident_memory(), rel=0.5)
    assert 0 < use.percent < 100


def test_the_threshold_is_a_percentage(tmp_path: Path) -> None:
    config = tmp_path / "opbx.toml"
    config.write_text("[server]\naccept_traffic_memory_threshold = 70\n")
    assert load_config(config, {}).accept_traffic_memory_threshold == 70.0
    for bad in ("0", "101", '"high"'):
        config.write_text(f"[server]\naccept_traffic_memory_threshold = {bad}\n")
        with pytest.raises(ConfigError, match="accept_traffic_memory_threshold"):
            load_config(config, {})

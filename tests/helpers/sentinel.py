"""A Redis Sentinel deployment of the test's own: a master, a replica and three sentinels.

All are Debian's ``redis-server`` (``--sentinel`` for the sentinels) on free ports, in a
temporary folder, with failure detection made short (``down_after_ms``), so a test can
kill the master and watch the sentinels promote the replica within seconds.
https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import redis

from tests.helpers.nodes import free_port

T = TypeVar("T")

MASTER_NAME = "opbx-test"
REDIS_SERVER = "/usr/bin/redis-server"


def _until(what: str, probe: Callable[[], T | None], timeout: float) -> T:
    """Poll ``probe`` (errors count as not yet) until it returns a value; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except (redis.RedisError, OSError) as exc:
            last, value = exc, None
        if value is not None:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} within {timeout} s (last error: {last})")


class _Process:
    """One redis-server process on a port of its own."""

    def __init__(self, directory: Path, name: str, *args: str) -> None:
        self.port = free_port()
        self.name = name
        self.log = directory / f"{name}.log"
        self._args = args
        self._directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, config: str | None = None) -> None:
        command = [REDIS_SERVER]
        if config is not None:  # a sentinel rewrites its config file, so it gets one of its own
            path = self._directory / f"{self.name}.conf"
            path.write_text(f"port {self.port}\nbind 127.0.0.1\ndir {self._directory}\n{config}")
            command += [str(path), "--sentinel"]
        else:
            command += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self._directory)]
            command += ["--save", "", "--appendonly", "no", *self._args]
        command += ["--logfile", str(self.log)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _until(f"{self.name} answers", lambda: self.ask(lambda client: client.ping()) or None, 10)

    def ask(self, call: Callable[[redis.Redis], Any], db: int = 0) -> Any:
        """``call`` with a client of this process (database ``db``), closed after."""
        options = {"socket_timeout": 1, "socket_connect_timeout": 1, "decode_responses": True}
        with redis.Redis(port=self.port, db=db, **options) as client:  # type: ignore[arg-type]
            return call(client)

    def kill(self) -> None:
        """SIGKILL: no goodbye, as a crashed machine."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


class SentinelRedis:
    """A master, its replica, and three sentinels watching the master (quorum two)."""

    def __init__(self, directory: Path, *, down_after_ms: int = 500, failover_timeout_ms: int = 3000) -> None:
        self.master = _Process(directory, "master")
        self.replica = _Process(directory, "replica", "--replicaof", "127.0.0.1", str(self.master.port))
        self.sentinels = [_Process(directory, f"sentinel-{index}") for index in range(3)]
        self._monitor = (
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.master.port} 2\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} {down_after_ms}\n"
            f"sentinel failover-timeout {MASTER_NAME} {failover_timeout_ms}\n"
            f"sentinel parallel-syncs {MASTER_NAME} 1\n"
        )

    @property
    def addresses(self) -> list[str]:
        """The sentinels as ``host:port``, as OPBX_REDIS_SENTINELS lists them."""
        return [f"127.0.0.1:{sentinel.port}" for sentinel in self.sentinels]

    def start(self) -> SentinelRedis:
        self.master.start()
        self.replica.start()
        _until("the replica is in sync", lambda: self._in_sync() or None, 10)
        for sentinel in self.sentinels:
            sentinel.start(self._monitor)
        _until("every sentinel sees the other two and the replica", lambda: self._all_seen() or None, 15)
        return self

    def _in_sync(self) -> bool:
        info = self.replica.ask(lambda client: client.info("replication"))
        return bool(info["role"] == "slave" and info["master_link_status"] == "up")

    def _all_seen(self) -> bool:
        for sentinel in self.sentinels:
            others = sentinel.ask(lambda client: client.sentinel_sentinels(MASTER_NAME))
            replicas = sentinel.ask(lambda client: client.sentinel_slaves(MASTER_NAME))
            if len(others) != 2 or len(replicas) != 1:
                return False
        return True

    def named_master(self, sentinel: _Process) -> int:
        """The master's port as ``sentinel`` names it now."""
        address = sentinel.ask(lambda client: client.sentinel_get_master_addr_by_name(MASTER_NAME))
        return int(address[1])

    def kill_master(self) -> None:
        self.master.kill()

    def wait_for_promotion(self, timeout: float) -> int:
        """The port of the promoted replica, once every sentinel names it and it acts as master."""

        def promoted() -> int | None:
            if {self.named_master(sentinel) for sentinel in self.sentinels} != {self.replica.port}:
                return None
            role = self.replica.ask(lambda client: client.info("replication")["role"])
            return self.replica.port if role == "master" else None

        return _until("the sentinels promoted the replica", promoted, timeout)

    def stop(self) -> None:
        for process in (*self.sentinels, self.replica, self.master):
            process.kill()

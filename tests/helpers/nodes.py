"""Real realtime nodes as separate processes, sharing a Redis under a test's own prefix."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers.apps import ALL_APPS, TEST_APP


def _apps_toml(webhook_url: str | None) -> str:
    """The test apps as a config file; with ``webhook_url``, TEST_APP's webhooks go there."""
    blocks = []
    for app in ALL_APPS:
        block = f"""[[apps]]
id = "{app.id}"
key = "{app.key}"
secret = "{app.secret}"
enabled = {str(app.enabled).lower()}
client_events = {str(app.client_events).lower()}
subscription_count_events = {str(app.subscription_count_events).lower()}
[apps.limits]
max_connections = {app.limits.max_connections or 1_000_000}
max_presence_members = {app.limits.max_presence_members}
client_events_per_second = {app.limits.client_events_per_second}
max_event_payload_bytes = {app.limits.max_event_payload_bytes}
"""
        if webhook_url is not None and app is TEST_APP:
            block += f'[[apps.webhooks]]\nurl = "{webhook_url}"\n'
        blocks.append(block)
    return "\n".join(blocks)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Node:
    """One ``opbx realtime`` process on the Redis adapter."""

    def __init__(
        self,
        directory: Path,
        redis_url: str,
        prefix: str,
        *,
        node_timeout: float = 2.0,
        extra_args: tuple[str, ...] = ("--metrics-port", "0"),
        webhook_url: str | None = None,
        server_settings: str = "",
    ) -> None:
        """``server_settings``: more lines of the ``[server]`` table (Redis Sentinel's, say)."""
        self.port = free_port()
        self.extra_args = extra_args
        self.config = directory / f"node-{self.port}.toml"
        self.config.write_text(
            f'[server]\nadapter = "redis"\nredis_url = "{redis_url}"\nredis_prefix = "{prefix}"\n'
            f"node_timeout = {node_timeout}\nshutdown_grace = 1\n{server_settings}\n{_apps_toml(webhook_url)}"
        )
        self.log = directory / f"node-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("OPBX_", "REDIS_URL"))}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "opbx.cli", "realtime"),
                    *("--port", str(self.port), "--config", str(self.config), *self.extra_args),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"node exited: {self.log.read_text()}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"node on port {self.port} did not start: {self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no goodbye, as a crashed machine."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class PrivateRedis:
    """A redis-server of the test's own, so a test can kill and restart it."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self._directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def start_again(self) -> PrivateRedis:
        """A restart on the same port: empty, as a Redis without persistence comes back."""
        return self.start()

"""The ``opbx`` command as a user runs it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

OPBX = [sys.executable, "-m", "opbx.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_bad_configuration_stops_start_up_naming_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[[apps]]\nid = '1'\nkey = 'k'\nsecret = 's'\nclient_events = 'yes'\n")
    result = subprocess.run([*OPBX, "realtime", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "apps[0].client_events" in result.stderr


def test_realtime_starts_prints_how_to_connect_and_stops_on_sigterm() -> None:
    port = free_port()
    env = {**os.environ, "OPBX_APP_ID": "55", "OPBX_APP_KEY": "cli-key", "OPBX_APP_SECRET": "cli-secret"}
    with subprocess.Popen(
        [*OPBX, "realtime", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as process:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert f"ws://127.0.0.1:{port}" in banner
        assert "app id=55 key=cli-key" in process.stdout.readline()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert client.recv(100).startswith(b"HTTP/1.1 200")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0

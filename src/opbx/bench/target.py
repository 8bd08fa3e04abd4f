"""The server under test: where it listens and, when we can see it, its process.

A server is reached at an :class:`Endpoint` (any Pusher-protocol server). Its process,
ours when spawned (:func:`spawn_opbx`) or anyone's by pid (:meth:`ServerProcess.attach`),
is read through ``/proc``: resident memory, CPU time, and pinned to one core.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from opbx import __version__

__all__ = ["Endpoint", "ServerError", "ServerProcess", "free_port", "spawn_opbx", "wait_until_listening"]


class ServerError(Exception):
    """The server could not be started, reached or read."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a Pusher-protocol server listens (WebSocket and HTTP API) and the app to use."""

    host: str
    port: int
    app_id: str
    key: str
    secret: str
    publish_port: int | None = None
    """Publish through another node's HTTP API (cross-node delivery); None: the same port."""

    @property
    def api_port(self) -> int:
        return self.publish_port if self.publish_port is not None else self.port


class ServerProcess:
    """A server's process seen through ``/proc``; it is stopped by us only if we spawned it."""

    def __init__(
        self, pid: int, description: str, popen: subprocess.Popen[bytes] | None = None, log: IO[bytes] | None = None
    ) -> None:
        self.pid = pid
        self.description = description
        self._popen = popen
        self._log = log
        self.cpu: int | None = None
        """The core it was pinned to, if any."""

    @classmethod
    def attach(cls, pid: int) -> ServerProcess:
        """An external server's process, described by its command line."""
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError as exc:
            raise ServerError(f"no process {pid}: {exc}") from None
        command = " ".join(arg.decode(errors="replace") for arg in argv if arg)
        return cls(pid, f"external: pid {pid}: {command}")

    @property
    def spawned(self) -> bool:
        return self._popen is not None

    def pin(self, cpu: int) -> int:
        """Pin every thread of the process to ``cpu`` (affinity is per thread); return how many."""
        threads = 0
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                os.sched_setaffinity(int(tid), {cpu})
                threads += 1
            except ProcessLookupError:
                continue  # the thread ended meanwhile
        self.cpu = cpu
        return threads

    def rss_kb(self) -> int:
        """Resident memory now (``VmRSS``), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise ServerError(f"no VmRSS for pid {self.pid}")

    def cpu_seconds(self) -> float:
        """User plus system CPU time of all its threads so far."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_text(self) -> str:
        """What a spawned server wrote to stderr so far (warnings and errors)."""
        if self._log is None or self._log.closed:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop a spawned server (SIGTERM, then SIGKILL); leave an external one alone."""
        popen = self._popen
        if popen is not None and popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(timeout)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait(timeout)
        if self._log is not None:
            self._log.close()


def free_port(host: str) -> int:
    """A port nothing listens on now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_listening(host: str, port: int, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Return once ``host:port`` accepts a TCP connection; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError as exc:
            if process is not None and process.poll() is not None:
                raise ServerError(f"the server exited with status {process.returncode}") from None
            if time.monotonic() >= deadline:
                raise ServerError(f"nothing listens on {host}:{port} after {timeout:.0f} s: {exc}") from None
            time.sleep(0.05)


def spawn(
    args: list[str], env: dict[str, str], host: str, port: int, description: str, timeout: float
) -> ServerProcess:
    """Start ``opbx <args>`` and wait until ``host:port`` listens; a failed start raises with its log."""
    command = [sys.executable, "-m", "opbx.cli", *args, "--log-level", "warning"]
    log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
    popen = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)  # noqa: S603
    server = ServerProcess(popen.pid, description.format(pid=popen.pid), popen, log)
    try:
        wait_until_listening(host, port, timeout, popen)
    except ServerError as exc:
        text = server.log_text()
        server.stop()
        raise ServerError(f"{exc}; its log:\n{text}") from None
    except BaseException:
        server.stop()
        raise
    return server


def spawn_opbx(endpoint: Endpoint, *, timeout: float = 20.0) -> ServerProcess:
    """Start ``opbx realtime`` on the endpoint's port, hosting its app; wait until it listens."""
    env = dict(os.environ, OPBX_APP_ID=endpoint.app_id, OPBX_APP_KEY=endpoint.key, OPBX_APP_SECRET=endpoint.secret)
    env.pop("OPBX_CONFIG", None)
    python = ".".join(map(str, sys.version_info[:3]))
    description = f"opbx realtime {__version__} (spawned, pid {{pid}}, Python {python})"
    args = ["realtime", "--host", endpoint.host, "--port", str(endpoint.port)]
    return spawn(args, env, endpoint.host, endpoint.port, description, timeout)

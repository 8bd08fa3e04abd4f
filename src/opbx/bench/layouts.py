"""The system under ``opbx bench-calls``, started in one of its two layouts.

* ``embedded``: ``opbx serve`` (API, relay and realtime server in one process, the
  in-process broadcaster), pinned to CPU 0;
* ``production``: ``opbx realtime`` and ``opbx api`` (the ``pusher`` driver, broadcasting
  over HTTP to that one realtime node) as two processes: the API on CPU 0, the realtime
  server on CPU 1 beside the bench.

Either way the bench moves itself to CPU 1 when pinning. The processes get none of the
machine's ``OPBX_*`` or ``REDIS_URL`` settings: one node, no Redis, the development app
(safe on loopback).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from opbx.bench.target import ServerProcess, free_port, spawn

__all__ = ["LAYOUTS", "System", "start_system"]

LAYOUTS = ("embedded", "production")

_HOST = "127.0.0.1"
_START_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class System:
    """Where it listens, and its processes: the API's first (``opbx serve`` or ``opbx api``), then the realtime."""

    api_port: int
    ws_port: int
    processes: tuple[ServerProcess, ...]


def _env(**settings: str) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("OPBX_") and key != "REDIS_URL"}
    return {**inherited, **settings}


def _spawn(args: list[str], description: str, env: dict[str, str], port: int) -> ServerProcess:
    return spawn(args, env, _HOST, port, description, _START_TIMEOUT)


def _embedded(database_url: str, api_port: int, ws_port: int, started: list[ServerProcess]) -> None:
    env = _env(DATABASE_URL=database_url, OPBX_API_PORT=str(api_port))
    args = ["serve", "--host", _HOST, "--port", str(ws_port), "--no-metrics"]
    started.append(_spawn(args, "opbx serve", env, api_port))


def _production(database_url: str, api_port: int, ws_port: int, started: list[ServerProcess]) -> None:
    args = ["realtime", "--host", _HOST, "--port", str(ws_port), "--no-metrics"]
    started.append(_spawn(args, "opbx realtime", _env(), ws_port))
    env = _env(
        DATABASE_URL=database_url,
        OPBX_BROADCAST_DRIVER="pusher",
        OPBX_PUSHER_URLS=f"http://{_HOST}:{ws_port}",
        OPBX_API_PORT=str(api_port),
        OPBX_WS_PORT=str(ws_port),
    )
    started.insert(0, _spawn(["api"], "opbx api", env, api_port))


@contextlib.contextmanager
def start_system(layout: str, database_url: str, *, pin: bool) -> Iterator[System]:
    """Start ``layout`` on ``database_url`` (migrated and seeded), pin it, yield it; stop it after."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}")
    api_port, ws_port = free_port(_HOST), free_port(_HOST)
    started: list[ServerProcess] = []
    try:
        (_embedded if layout == "embedded" else _production)(database_url, api_port, ws_port, started)
        if pin:
            for index, server in enumerate(started):  # the API (or opbx serve) alone on CPU 0
                server.pin(0 if index == 0 else 1)
            os.sched_setaffinity(0, {1})
        yield System(api_port, ws_port, tuple(started))
    finally:
        for server in started:  # the API first: its relay must not lose the realtime server midway
            server.stop(15)

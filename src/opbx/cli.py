"""The ``opbx`` command.

``opbx serve`` runs the whole system in one process; ``opbx realtime`` and ``opbx api`` run
its parts apart (the production layout); ``opbx bench`` measures a realtime server;
``opbx db upgrade`` migrates the database; ``opbx call-states`` prints the call-state diagram.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import uvloop

from opbx.realtime.config import DEFAULT_APP, ConfigError, ServerConfig, load_config

if TYPE_CHECKING:  # the backend (SQLAlchemy, Starlette) is imported only by the commands that run it
    from opbx.api.settings import BackendSettings

__all__ = ["main"]

log = logging.getLogger("opbx")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _realtime_config(args: argparse.Namespace) -> ServerConfig:
    path = args.config or os.environ.get("OPBX_CONFIG")
    return load_config(
        Path(path) if path else None,
        os.environ,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
    )


def _print_banner(config: ServerConfig, port: int) -> None:
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host  # noqa: S104 - display only
    print(f"OpBX realtime server (Pusher protocol 7) on ws://{host}:{port} and http://{host}:{port}", flush=True)
    for app in config.apps:
        state = "" if app.enabled else " (disabled)"
        print(f"  app id={app.id} key={app.key}{state}", flush=True)
        print(
            f"    pusher-js: new Pusher('{app.key}', {{wsHost: '{host}', wsPort: {port}, forceTLS: false,", flush=True
        )
        print("               enabledTransports: ['ws'], cluster: ''})", flush=True)
        print(f"    pusher (Python): pusher.Pusher(app_id='{app.id}', key='{app.key}', secret=..., ", flush=True)
        print(f"               host='{host}', port={port}, ssl=False)", flush=True)
    if DEFAULT_APP in config.apps:
        print("  (development credentials: set OPBX_APP_ID/KEY/SECRET or a config file)", flush=True)


async def _until_signalled() -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    log.info("shutting down")


async def _run_realtime(config: ServerConfig) -> None:
    from opbx.realtime.server import RealtimeServer

    server = RealtimeServer(config)
    await server.start()
    _print_banner(config, server.port)
    await _until_signalled()
    await server.stop()


async def _run_api(settings: BackendSettings) -> None:
    from opbx.system import HttpServer, start_backend

    backend = await start_backend(settings)
    http = HttpServer(backend.api, settings.api_host, settings.api_port)
    await http.start()
    print(f"OpBX API on http://{settings.api_host}:{http.port}/api/v1", flush=True)
    print(f"  broadcasting with the {settings.broadcast_driver} driver to app {settings.app.id}", flush=True)
    await _until_signalled()
    await http.stop()
    await backend.stop()


async def _run_serve(config: ServerConfig, settings: BackendSettings) -> None:
    from opbx.realtime.server import RealtimeServer
    from opbx.system import HttpServer, start_backend

    realtime = RealtimeServer(config)
    await realtime.start()
    if "OPBX_WS_PORT" not in os.environ:
        settings = dataclasses.replace(settings, ws_port=realtime.port)
    backend = await start_backend(settings, realtime=realtime)
    http = HttpServer(backend.api, settings.api_host, settings.api_port)
    await http.start()
    _print_banner(config, realtime.port)
    print(f"OpBX API on http://{settings.api_host}:{http.port}/api/v1", flush=True)
    await _until_signalled()
    await http.stop()
    await backend.stop()
    await realtime.stop()


def _backend_settings(default_driver: str) -> BackendSettings:
    from opbx.api.settings import BackendSettings

    return BackendSettings.from_env(os.environ, default_driver=default_driver)


def _cmd_api(args: argparse.Namespace) -> int:
    try:
        settings = _backend_settings("pusher")
    except ConfigError as exc:
        print(f"opbx: configuration error: {exc}", file=sys.stderr)
        return 2
    _configure_logging(args.log_level or "info")
    uvloop.run(_run_api(settings))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        config = _realtime_config(args)
        settings = _backend_settings("inprocess")
    except ConfigError as exc:
        print(f"opbx: configuration error: {exc}", file=sys.stderr)
        return 2
    _configure_logging(config.log_level)
    uvloop.run(_run_serve(config, settings))
    return 0


def _cmd_db(args: argparse.Namespace) -> int:
    from opbx.db.engine import Database

    async def upgrade() -> None:
        database = Database(_backend_settings("null").database_url)
        await database.migrate()
        await database.dispose()

    asyncio.run(upgrade())
    print("database is at the newest schema", flush=True)
    return 0


def _cmd_call_states(args: argparse.Namespace) -> int:
    from opbx.telephony.diagram import mermaid

    print(mermaid())
    return 0


def _cmd_realtime(args: argparse.Namespace) -> int:
    try:
        config = _realtime_config(args)
    except ConfigError as exc:
        print(f"opbx: configuration error: {exc}", file=sys.stderr)
        return 2
    _configure_logging(config.log_level)
    uvloop.run(_run_realtime(config))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from opbx.bench.runner import run_from_args

    _configure_logging(args.log_level or "warning")
    return run_from_args(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opbx", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    realtime = commands.add_parser("realtime", help="run the Pusher-protocol realtime server")
    realtime.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    realtime.add_argument("--port", type=int, help="port for WebSocket and HTTP API (default 6001)")
    realtime.add_argument("--config", help="TOML file with server settings and apps (or OPBX_CONFIG)")
    realtime.add_argument("--log-level", help="debug, info, warning or error (default info)")
    realtime.set_defaults(handler=_cmd_realtime)

    serve = commands.add_parser("serve", help="run the whole system in one process (realtime, API, relay)")
    serve.add_argument("--host", help="realtime server address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="realtime server port (default 6001)")
    serve.add_argument("--config", help="TOML file for the realtime server (or OPBX_CONFIG)")
    serve.add_argument("--log-level", help="debug, info, warning or error (default info)")
    serve.set_defaults(handler=_cmd_serve)

    api = commands.add_parser("api", help="run the call-presence API alone (broadcasting over HTTP)")
    api.add_argument("--log-level", help="debug, info, warning or error (default info)")
    api.set_defaults(handler=_cmd_api)

    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="upgrade: migrate to the newest schema")
    db.set_defaults(handler=_cmd_db)

    states = commands.add_parser("call-states", help="print the call-state diagram (Mermaid)")
    states.set_defaults(handler=_cmd_call_states)

    from opbx.bench.runner import add_arguments

    bench = commands.add_parser("bench", help="measure a Pusher-protocol server (ours or any other)")
    add_arguments(bench)
    bench.set_defaults(handler=_cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())

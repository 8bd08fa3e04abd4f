"""The ``opbx`` command: ``opbx realtime`` runs the server, ``opbx bench`` measures one."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import uvloop

from opbx.realtime.config import DEFAULT_APP, ConfigError, ServerConfig, load_config

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


async def _run_realtime(config: ServerConfig) -> None:
    from opbx.realtime.server import RealtimeServer

    server = RealtimeServer(config)
    await server.start()
    _print_banner(config, server.port)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    log.info("shutting down")
    await server.stop()


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

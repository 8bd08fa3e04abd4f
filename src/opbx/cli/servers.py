"""``opbx serve`` (the whole system in one process), ``opbx realtime`` and ``opbx api`` (its
parts apart, the production layout)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opbx.cli.banner import backend_lines, display_host, realtime_lines
from opbx.cli.common import LOGGING, Parser, configure_logging, run
from opbx.configuration import DEFAULT_APP, ConfigError, is_loopback, parse_bool, uses_development_secret
from opbx.heap import freeze_startup_heap
from opbx.protocol.app import App
from opbx.realtime.config import ServerConfig, load_config

if TYPE_CHECKING:  # the backend (SQLAlchemy, Starlette) is imported only by the commands that run it
    from opbx.api.settings import BackendSettings

__all__ = ["backend_settings", "realtime_config", "register"]

log = logging.getLogger("opbx")

_ALLOW_DEV_SECRET_ENV = "OPBX_ALLOW_DEV_SECRET"  # noqa: S105 - a variable name


def realtime_config(args: argparse.Namespace) -> ServerConfig:
    """The realtime server's settings: the TOML file, the environment, then the command line."""
    path = args.config or os.environ.get("OPBX_CONFIG")
    config = load_config(
        Path(path) if path else None,
        os.environ,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        metrics_port=args.metrics_port,
        ssl_cert=args.ssl_cert,
        ssl_key=args.ssl_key,
    )
    return dataclasses.replace(config, metrics_port=None) if args.no_metrics else config


def backend_settings(default_driver: str) -> BackendSettings:
    from opbx.api.settings import BackendSettings

    return BackendSettings.from_env(os.environ, default_driver=default_driver)


def _refuse_published_secret(args: argparse.Namespace, hosts: Iterable[str], apps: Sequence[App]) -> None:
    """Serving other machines with the development secret lets anyone sign anything: refuse unless told."""
    exposed = [host for host in hosts if not is_loopback(host)]
    allowed = args.allow_dev_secret or parse_bool(_ALLOW_DEV_SECRET_ENV, os.environ.get(_ALLOW_DEV_SECRET_ENV, ""))
    if exposed and uses_development_secret(apps) and not allowed:
        raise ConfigError(
            f"--host {exposed[0]}: refusing to serve other machines with the published development app secret "
            f"{DEFAULT_APP.secret!r}; set OPBX_APP_SECRET (or the apps of the config file), or pass "
            f"--allow-dev-secret (or {_ALLOW_DEV_SECRET_ENV}=true) if this network is private"
        )


def _on_signal() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM: installed before start-up, so an early signal stops gracefully."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    return stopping


async def _until(stopping: asyncio.Event) -> None:
    await stopping.wait()
    log.info("shutting down")


def _print(lines: list[str]) -> None:
    print("\n".join(lines), flush=True)


def _serving(lines: list[str]) -> None:
    """Say what is served; from here on, what start-up built is out of the collector's way."""
    freeze_startup_heap()
    _print(lines)


async def _run_realtime(config: ServerConfig, worker: int = 0) -> None:
    from opbx.realtime.server import RealtimeServer

    stopping = _on_signal()
    server = RealtimeServer(config)
    await server.start()
    if worker == 0:
        _serving(realtime_lines(config, server.port, server.metrics_port, server.adapter.node_id))
    else:
        _serving(
            [
                f"  worker {worker} (pid {os.getpid()}) on port {server.port}, metrics {server.metrics_port}, "
                f"node id {server.adapter.node_id}"
            ]
        )
    await _until(stopping)
    await server.stop_within_grace()


def _run_worker(config: ServerConfig, index: int) -> None:
    """One of ``--workers``: its own metrics port (the base port plus its index)."""
    if config.metrics_port:
        config = dataclasses.replace(config, metrics_port=config.metrics_port + index)
    run(_run_realtime(config, index))


def _cmd_realtime(args: argparse.Namespace) -> int:
    config = realtime_config(args)
    _refuse_published_secret(args, [config.host], config.apps)
    configure_logging(config.log_level, log_format=args.log_format)
    if args.workers == 1:
        run(_run_realtime(config))
        return 0
    from opbx.realtime.workers import run_workers

    return run_workers(config, args.workers, _run_worker)


async def _run_api(settings: BackendSettings) -> None:
    from opbx.system import HttpServer, listen, start_backend

    stopping = _on_signal()
    listener = listen(settings.api_host, settings.api_port)  # a taken port refuses before any migration
    try:
        backend = await start_backend(settings)
    except BaseException:
        listener.close()
        raise
    try:
        http = HttpServer(backend.api, settings.api_host, settings.api_port, listener=listener)
        await http.start()
    except BaseException:
        await backend.stop()
        raise
    _serving(backend_lines(settings, http.port))
    await _until(stopping)
    started = time.monotonic()
    await http.stop()
    await backend.stop()
    elapsed = time.monotonic() - started
    log.info("API stopped in %.2fs", elapsed, extra={"seconds": round(elapsed, 3)})


def _cmd_api(args: argparse.Namespace) -> int:
    settings = backend_settings("pusher")
    if settings.broadcast_driver == "inprocess":
        raise ConfigError(
            "OPBX_BROADCAST_DRIVER: inprocess needs the realtime server in the same process; "
            "use pusher with opbx api, or run opbx serve"
        )
    _refuse_published_secret(args, [settings.api_host], [settings.app])
    configure_logging(args.log_level, log_format=args.log_format)
    run(_run_api(settings))
    return 0


async def _run_serve(config: ServerConfig, settings: BackendSettings, *, demo: bool, calls_per_minute: float) -> None:
    from opbx.demo import DEMO_PASSWORD, seed_demo
    from opbx.simulator import SimulatedOrganization, Simulator
    from opbx.system import start_embedded

    stopping = _on_signal()
    system = await start_embedded(config, settings, advertise_port="OPBX_WS_PORT" not in os.environ)
    realtime = system.realtime
    lines = realtime_lines(config, realtime.port, realtime.metrics_port, realtime.adapter.node_id)
    lines += backend_lines(system.backend.settings, system.http.port)
    api_url = f"http://{display_host(settings.api_host)}:{system.http.port}"
    simulation: asyncio.Task[Any] | None = None
    simulator = None
    if demo:
        organization = await seed_demo(system.backend.database)
        lines += [
            "",
            f"Dashboard: {api_url}/",
            f"  sign in as {organization.emails[0]} / {DEMO_PASSWORD}",
            f"  (also {', '.join(organization.emails[1:])}; same password)",
        ]
        if calls_per_minute > 0:
            simulated = SimulatedOrganization(
                organization.id, organization.webhook_secret, organization.dids, organization.extensions
            )
            simulator = Simulator(api_url, [simulated], calls_per_minute=calls_per_minute)
            simulation = asyncio.get_running_loop().create_task(simulator.run())
            lines.append(f"  simulated calls: about {calls_per_minute:g} a minute")
    else:
        lines += ["", f"Dashboard: {api_url}/"]
    _serving(lines)
    await _until(stopping)
    if simulator is not None and simulation is not None:
        simulation.cancel()
        await simulator.close()
    await system.stop()


def _cmd_serve(args: argparse.Namespace) -> int:
    config = realtime_config(args)
    settings = backend_settings("inprocess")
    _refuse_published_secret(args, [config.host, settings.api_host], config.apps)
    configure_logging(config.log_level, log_format=args.log_format)
    run(_run_serve(config, settings, demo=args.demo, calls_per_minute=args.simulate))
    return 0


def _server_options(parser: argparse.ArgumentParser) -> None:
    """Options of the realtime server shared by ``opbx realtime`` and ``opbx serve``."""
    defaults = ServerConfig()
    parser.add_argument("--host", help=f"address to listen on (default {defaults.host})")
    parser.add_argument("--port", type=int, help=f"port for WebSocket and HTTP API (default {defaults.port})")
    parser.add_argument("--config", help="TOML file with server settings and apps (or OPBX_CONFIG)")
    metrics = parser.add_mutually_exclusive_group()
    metrics.add_argument(
        "--metrics-port", type=int, help=f"port of the Prometheus endpoint /metrics (default {defaults.metrics_port})"
    )
    metrics.add_argument("--no-metrics", action="store_true", help="serve no metrics endpoint")
    parser.add_argument(
        "--ssl-cert", metavar="PEM", help="certificate chain: serve wss:// and https:// (with --ssl-key)"
    )
    parser.add_argument("--ssl-key", metavar="PEM", help="the certificate's private key")
    parser.add_argument(
        "--allow-dev-secret",
        action="store_true",
        help=f"listen beyond this machine with the published development app secret (or {_ALLOW_DEV_SECRET_ENV})",
    )


def register(commands: Any) -> None:
    realtime: Parser = commands.add_parser(
        "realtime", parents=[LOGGING], help="run the Pusher-protocol realtime server"
    )
    _server_options(realtime)
    realtime.add_argument(
        "--workers",
        type=int,
        default=os.environ.get("OPBX_WORKERS", "1"),  # argparse converts (and names a bad value)
        help="processes sharing the port over the Redis adapter (default 1, or OPBX_WORKERS)",
    )
    realtime.set_defaults(handler=_cmd_realtime)

    serve: Parser = commands.add_parser(
        "serve", parents=[LOGGING], help="run the whole system in one process (realtime, API, relay)"
    )
    _server_options(serve)
    serve.add_argument("--demo", action="store_true", help="create the demo organization and print its sign-in")
    serve.add_argument(
        "--simulate", type=float, default=0.0, metavar="CALLS_PER_MINUTE", help="with --demo: simulate calls"
    )
    serve.set_defaults(handler=_cmd_serve)

    api: Parser = commands.add_parser(
        "api", parents=[LOGGING], help="run the call-presence API alone (broadcasting over HTTP)"
    )
    api.add_argument(
        "--allow-dev-secret",
        action="store_true",
        help=f"listen beyond this machine with the published development app secret (or {_ALLOW_DEV_SECRET_ENV})",
    )
    api.set_defaults(handler=_cmd_api)

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
    from opbx.realtime.server import RealtimeServer
    from opbx.simulator import SimulatedOrganization

__all__ = ["main"]

log = logging.getLogger("opbx")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # One line per HTTP request of the simulator or the relay is noise next to our own.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))


def _realtime_config(args: argparse.Namespace) -> ServerConfig:
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


def _add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the realtime server shared by ``opbx realtime`` and ``opbx serve``."""
    metrics = parser.add_mutually_exclusive_group()
    metrics.add_argument("--metrics-port", type=int, help="port of the Prometheus endpoint /metrics (default 9601)")
    metrics.add_argument("--no-metrics", action="store_true", help="serve no metrics endpoint")
    parser.add_argument(
        "--ssl-cert", metavar="PEM", help="certificate chain: serve wss:// and https:// (with --ssl-key)"
    )
    parser.add_argument("--ssl-key", metavar="PEM", help="the certificate's private key")


def _print_banner(config: ServerConfig, port: int, metrics_port: int | None = None) -> None:
    """How to connect, written at once (workers print at the same time)."""
    lines: list[str] = []
    host = _display_host(config.host)
    tls = config.ssl_cert is not None
    ws, http = ("wss", "https") if tls else ("ws", "http")
    lines.append(f"OpBX realtime server (Pusher protocol 7) on {ws}://{host}:{port} and {http}://{host}:{port}")
    for app in config.apps:
        state = "" if app.enabled else " (disabled)"
        lines.append(f"  app id={app.id} key={app.key}{state}")
        ports = f"wssPort: {port}, forceTLS: true" if tls else f"wsPort: {port}, forceTLS: false"
        lines.append(f"    pusher-js: new Pusher('{app.key}', {{wsHost: '{host}', {ports},")
        lines.append(f"               enabledTransports: ['{ws}'], cluster: ''}})")
        lines.append(f"    pusher (Python): pusher.Pusher(app_id='{app.id}', key='{app.key}', secret=..., ")
        lines.append(f"               host='{host}', port={port}, ssl={tls})")
    if metrics_port is not None:
        metrics_host = _display_host(config.metrics_host or config.host)
        lines.append(f"  metrics: http://{metrics_host}:{metrics_port}/metrics")
    if DEFAULT_APP in config.apps:
        lines.append("  (development credentials: set OPBX_APP_ID/KEY/SECRET or a config file)")
    print("\n".join(lines), flush=True)


async def _until_signalled() -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    log.info("shutting down")


async def _run_realtime(config: ServerConfig, worker: int = 0) -> None:
    from opbx.realtime.server import RealtimeServer

    server = RealtimeServer(config)
    await server.start()
    if worker == 0:
        _print_banner(config, server.port, server.metrics_port)
    else:
        print(f"  worker {worker} (pid {os.getpid()}) on port {server.port}, metrics {server.metrics_port}", flush=True)
    await _until_signalled()
    await _stop_within_grace(server)


async def _stop_within_grace(server: RealtimeServer) -> None:
    """Stop the server; whatever is still pending when its grace period ends is dropped."""
    try:
        await asyncio.wait_for(server.stop(), server.config.shutdown_grace)
    except TimeoutError:
        log.warning("shutdown took longer than shutdown_grace (%gs); exiting anyway", server.config.shutdown_grace)


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


async def _run_serve(config: ServerConfig, settings: BackendSettings, *, demo: bool, calls_per_minute: float) -> None:
    from opbx.demo import DEMO_PASSWORD, seed_demo
    from opbx.realtime.server import RealtimeServer
    from opbx.simulator import SimulatedOrganization, Simulator
    from opbx.system import HttpServer, start_backend

    realtime = RealtimeServer(config)
    await realtime.start()
    if "OPBX_WS_PORT" not in os.environ:
        settings = dataclasses.replace(settings, ws_port=realtime.port)
    backend = await start_backend(settings, realtime=realtime)
    http = HttpServer(backend.api, settings.api_host, settings.api_port)
    await http.start()
    _print_banner(config, realtime.port, realtime.metrics_port)
    api_url = f"http://{_display_host(settings.api_host)}:{http.port}"
    print(f"OpBX API on {api_url}/api/v1", flush=True)
    simulator = None
    if demo:
        organization = await seed_demo(backend.database)
        print(f"\nDashboard: {api_url}/", flush=True)
        print(f"  sign in as {organization.emails[0]} / {DEMO_PASSWORD}", flush=True)
        print(f"  (also {', '.join(organization.emails[1:])}; same password)", flush=True)
        if calls_per_minute > 0:
            simulator = Simulator(
                api_url,
                [
                    SimulatedOrganization(
                        organization.id, organization.webhook_secret, organization.dids, organization.extensions
                    )
                ],
                calls_per_minute=calls_per_minute,
            )
            simulation = asyncio.get_running_loop().create_task(simulator.run())
            print(f"  simulated calls: about {calls_per_minute:g} a minute", flush=True)
    await _until_signalled()
    if simulator is not None:
        simulation.cancel()
        await simulator.close()
    await http.stop()
    await backend.stop()
    await _stop_within_grace(realtime)


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - display only


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
    uvloop.run(_run_serve(config, settings, demo=args.demo, calls_per_minute=args.simulate))
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from opbx.simulator import SimulatedOrganization

    _configure_logging(args.log_level or "warning")
    if args.org is not None:
        if not args.secret or not args.dids:
            print("opbx: --org needs --secret and --dids", file=sys.stderr)
            return 2
        organizations = [
            SimulatedOrganization(args.org, args.secret, tuple(args.dids.split(",")), tuple(args.extensions.split(",")))
        ]
        uvloop.run(_simulate(args, organizations))
    else:
        uvloop.run(_simulate(args, None))
    return 0


async def _simulate(args: argparse.Namespace, organizations: list[SimulatedOrganization] | None) -> None:
    from opbx.simulator import Simulator

    if organizations is None:
        organizations = await _organizations_from_database()
    simulator = Simulator(args.url, organizations, calls_per_minute=args.rate, speed=args.speed, seed=args.seed)
    print(
        f"simulating about {args.rate:g} calls a minute for {len(organizations)} organization(s) at {args.url}",
        flush=True,
    )
    try:
        await simulator.run(args.duration)
    finally:
        await simulator.close()
        answers = ", ".join(f"{status}: {count}" for status, count in sorted(simulator.stats.webhooks.items()))
        print(
            f"calls started {simulator.stats.calls_started}, finished {simulator.stats.calls_finished}; "
            f"webhook answers {answers or 'none'}",
            flush=True,
        )


async def _organizations_from_database() -> list[SimulatedOrganization]:
    from sqlalchemy import select

    from opbx.db.engine import Database
    from opbx.db.models import Did, Extension, Organization
    from opbx.simulator import SimulatedOrganization

    database = Database(_backend_settings("null").database_url)
    try:
        async with database.session() as session:
            organizations = (await session.execute(select(Organization))).scalars().all()
            found = []
            for organization in organizations:
                dids = await session.execute(select(Did.phone_number).where(Did.organization_id == organization.id))
                extensions = await session.execute(
                    select(Extension.number).where(Extension.organization_id == organization.id)
                )
                found.append(
                    SimulatedOrganization(
                        organization.id,
                        organization.webhook_secret,
                        tuple(dids.scalars()),
                        tuple(extensions.scalars()),
                    )
                )
            return found
    finally:
        await database.dispose()


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
    if args.workers == 1:
        uvloop.run(_run_realtime(config))
        return 0
    from opbx.realtime.workers import run_workers

    try:
        return run_workers(config, args.workers, _run_worker)
    except ConfigError as exc:
        print(f"opbx: configuration error: {exc}", file=sys.stderr)
        return 2


def _run_worker(config: ServerConfig, index: int) -> None:
    """One of ``--workers``: its own metrics port (the base port plus its index)."""
    if config.metrics_port:
        config = dataclasses.replace(config, metrics_port=config.metrics_port + index)
    uvloop.run(_run_realtime(config, index))


def _cmd_bench(args: argparse.Namespace) -> int:
    from opbx.bench.runner import run_from_args

    _configure_logging(args.log_level or "warning")
    return run_from_args(args)


def _cmd_bench_calls(args: argparse.Namespace) -> int:
    from opbx.bench.calls import result_json, run_call_bench

    _configure_logging(args.log_level or "warning")
    result = uvloop.run(
        run_call_bench(
            rate=args.rate, duration=args.duration, warmup=args.warmup, in_flight=args.in_flight, pin=not args.no_pin
        )
    )
    print(result.report(), flush=True)
    if args.json:
        Path(args.json).write_bytes(result_json(result))
    return 0 if result.complete else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opbx", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    realtime = commands.add_parser("realtime", help="run the Pusher-protocol realtime server")
    realtime.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    realtime.add_argument("--port", type=int, help="port for WebSocket and HTTP API (default 6001)")
    realtime.add_argument("--config", help="TOML file with server settings and apps (or OPBX_CONFIG)")
    realtime.add_argument("--log-level", help="debug, info, warning or error (default info)")
    realtime.add_argument(
        "--workers",
        type=int,
        default=os.environ.get("OPBX_WORKERS", "1"),  # argparse converts (and names a bad value)
        help="processes sharing the port over the Redis adapter (default 1, or OPBX_WORKERS)",
    )
    _add_server_arguments(realtime)
    realtime.set_defaults(handler=_cmd_realtime)

    serve = commands.add_parser("serve", help="run the whole system in one process (realtime, API, relay)")
    serve.add_argument("--host", help="realtime server address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="realtime server port (default 6001)")
    serve.add_argument("--config", help="TOML file for the realtime server (or OPBX_CONFIG)")
    serve.add_argument("--log-level", help="debug, info, warning or error (default info)")
    _add_server_arguments(serve)
    serve.add_argument("--demo", action="store_true", help="create the demo organization and print its sign-in")
    serve.add_argument(
        "--simulate", type=float, default=0.0, metavar="CALLS_PER_MINUTE", help="with --demo: simulate calls"
    )
    serve.set_defaults(handler=_cmd_serve)

    simulate = commands.add_parser("simulate", help="post signed provider webhooks for simulated calls")
    simulate.add_argument("--url", default="http://127.0.0.1:8000", help="the backend (default http://127.0.0.1:8000)")
    simulate.add_argument("--rate", type=float, default=6.0, help="calls per minute (default 6)")
    simulate.add_argument("--duration", type=float, help="seconds to start calls for (default: until stopped)")
    simulate.add_argument("--speed", type=float, default=1.0, help="compress every wait by this factor")
    simulate.add_argument("--seed", type=int, help="random seed, for a repeatable run")
    simulate.add_argument("--org", type=int, help="organization id (default: every organization in the database)")
    simulate.add_argument("--secret", help="with --org: its webhook secret")
    simulate.add_argument("--dids", help="with --org: its numbers, comma-separated")
    simulate.add_argument("--extensions", default="", help="with --org: extension numbers, comma-separated")
    simulate.add_argument("--log-level", help="debug, info, warning or error (default warning)")
    simulate.set_defaults(handler=_cmd_simulate)

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

    calls = commands.add_parser("bench-calls", help="measure the backend: webhook to event latency and throughput")
    calls.add_argument("--rate", type=float, default=100.0, help="latency: webhooks per second (100)")
    calls.add_argument("--duration", type=float, default=10.0, help="seconds measured, each phase (10)")
    calls.add_argument("--warmup", type=float, default=2.0, help="latency: seconds before measuring (2)")
    calls.add_argument("--in-flight", type=int, default=8, help="throughput: webhooks in flight (8)")
    calls.add_argument("--no-pin", action="store_true", help="pin neither process")
    calls.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    calls.add_argument("--log-level", help="debug, info, warning or error (default warning)")
    calls.set_defaults(handler=_cmd_bench_calls)
    bench.set_defaults(handler=_cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())

"""Entry point of ``opbx bench``: the options, the server under test, the scenarios, the report.

The server runs on one core and the load on the other: with ``--spawn`` our server
starts as a subprocess pinned to ``--server-cpu``; with ``--server-pid`` any server's
threads are pinned there; the bench pins itself to ``--bench-cpu``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import uvloop

from opbx.bench.connections import ConnectionsParams, raise_open_files_limit, run_connections
from opbx.bench.latency import LatencyParams, run_latency
from opbx.bench.report import Report, ScenarioResult
from opbx.bench.target import Endpoint, ServerError, ServerProcess, free_port, spawn_opbx
from opbx.bench.throughput import ThroughputParams, run_throughput
from opbx.configuration import DEFAULT_APP, DEFAULT_REALTIME_PORT

__all__ = ["add_arguments", "run_from_args"]

SCENARIOS = ("connections", "latency", "throughput")
"""In the order ``all`` runs them: memory first, on a server that has held nothing yet."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    server = parser.add_argument_group("server under test")
    server.add_argument("--host", default="127.0.0.1", help="its address (default 127.0.0.1)")
    server.add_argument(
        "--port", type=int, help=f"its port (default {DEFAULT_REALTIME_PORT}; with --spawn a free port)"
    )
    server.add_argument("--app-id", default=DEFAULT_APP.id, help=f"app id for the HTTP API (default {DEFAULT_APP.id})")
    server.add_argument("--key", default=DEFAULT_APP.key, help=f"app key (default {DEFAULT_APP.key})")
    server.add_argument("--secret", default=DEFAULT_APP.secret, help=f"app secret (default {DEFAULT_APP.secret})")
    where = server.add_mutually_exclusive_group()
    where.add_argument("--spawn", action="store_true", help="start our server (opbx realtime) for the run")
    where.add_argument("--server-pid", type=int, help="pid of an external server: pin it, read its memory and CPU")
    server.add_argument(
        "--publish-port",
        type=int,
        help="publish through this port's HTTP API (another node of the cluster) while clients use --port",
    )
    server.add_argument("--label", help="a name for the server in the report")
    server.add_argument("--server-cpu", type=int, default=0, help="core for the server (default 0)")
    server.add_argument("--bench-cpu", type=int, default=1, help="core for the bench (default 1)")
    server.add_argument("--no-pin", action="store_true", help="pin neither process")

    load = parser.add_argument_group("scenarios")
    load.add_argument("--scenario", choices=(*SCENARIOS, "all"), default="all", help="what to run (default all)")
    load.add_argument("--subscribers", type=int, default=1000, help="latency/throughput subscribers (1000)")
    load.add_argument("--rate", type=float, default=20.0, help="latency: publishes per second (20)")
    load.add_argument("--duration", type=float, default=10.0, help="latency/throughput: seconds measured (10)")
    load.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before measuring (2)")
    load.add_argument("--in-flight", type=int, default=4, help="publish requests in flight (4)")
    load.add_argument("--connections", type=int, default=10_000, help="connections: idle connections (10000)")
    load.add_argument("--batch", type=int, default=500, help="connections opened at once (500)")
    load.add_argument("--payload-bytes", type=int, default=64, help="size of each event's data (64)")
    load.add_argument("--drain-timeout", type=float, default=5.0, help="seconds to wait for stragglers (5)")
    load.add_argument("--pause", type=float, default=1.0, help="seconds between scenarios (1)")

    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--log-level", default="warning")


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``opbx bench``: 0 if every delivery and connection was counted, 1 if not, 2 on error."""
    raise_open_files_limit()  # before spawning: our server inherits it
    port = args.port if args.port is not None else free_port(args.host) if args.spawn else DEFAULT_REALTIME_PORT
    endpoint = Endpoint(args.host, port, args.app_id, args.key, args.secret, args.publish_port)
    try:
        server = _server(args, endpoint)
    except ServerError as exc:
        print(f"opbx bench: {exc}", file=sys.stderr)
        return 2
    previous = os.sched_getaffinity(0)
    try:
        bench_cpu = None
        if not args.no_pin and not {args.server_cpu, args.bench_cpu} <= previous:
            print(f"opbx bench: CPUs {args.server_cpu} and {args.bench_cpu} are not both available; not pinning")
        elif not args.no_pin:
            if server is not None:
                server.pin(args.server_cpu)
            os.sched_setaffinity(0, {args.bench_cpu})
            bench_cpu = args.bench_cpu
        report = Report(server=_describe(args, endpoint, server), bench={"pid": os.getpid(), "cpu": bench_cpu})
        try:
            report.results = uvloop.run(_scenarios(args, endpoint, server))
        except (OSError, ServerError) as exc:
            print(f"opbx bench: cannot measure {args.host}:{port}: {exc}", file=sys.stderr)
            return 2
    finally:
        os.sched_setaffinity(0, previous)
        if server is not None:
            log = server.log_text() if server.spawned else ""
            server.stop()
            if log:
                lines = log.splitlines()
                print(f"server log ({len(lines)} lines), last ones:", *lines[-10:], sep="\n  ", file=sys.stderr)
    print(report.render(), flush=True)
    if args.json is not None:
        report.write_json(args.json)
    return 0 if report.ok else 1


def _server(args: argparse.Namespace, endpoint: Endpoint) -> ServerProcess | None:
    if args.spawn:
        return spawn_opbx(endpoint)
    if args.server_pid is not None:
        return ServerProcess.attach(args.server_pid)
    return None


def _describe(args: argparse.Namespace, endpoint: Endpoint, server: ServerProcess | None) -> dict[str, object]:
    if server is not None:
        description = server.description
    else:
        description = "external, process unknown (memory and CPU need --server-pid)"
    if args.label:
        description = f"{args.label}: {description}"
    return {
        "description": description,
        "host": endpoint.host,
        "port": endpoint.port,
        "publish_port": endpoint.api_port,
        "app_id": endpoint.app_id,
        "pid": server.pid if server is not None else None,
        "cpu": server.cpu if server is not None else None,
        "spawned": server.spawned if server is not None else False,
    }


async def _scenarios(
    args: argparse.Namespace, endpoint: Endpoint, server: ServerProcess | None
) -> list[ScenarioResult]:
    chosen = SCENARIOS if args.scenario == "all" else (args.scenario,)
    results: list[ScenarioResult] = []
    for index, name in enumerate(chosen):
        if index:
            await asyncio.sleep(args.pause)
        if name == "connections":
            params = ConnectionsParams(connections=args.connections, batch=args.batch)
            results.append(await run_connections(endpoint, params, server))
        elif name == "latency":
            latency = LatencyParams(
                subscribers=args.subscribers,
                rate=args.rate,
                duration=args.duration,
                warmup=args.warmup,
                in_flight=args.in_flight,
                payload_bytes=args.payload_bytes,
                batch=args.batch,
                drain_timeout=args.drain_timeout,
            )
            results.append(await run_latency(endpoint, latency))
        else:
            throughput = ThroughputParams(
                subscribers=args.subscribers,
                in_flight=args.in_flight,
                duration=args.duration,
                warmup=args.warmup,
                payload_bytes=args.payload_bytes,
                batch=args.batch,
                drain_timeout=args.drain_timeout,
            )
            results.append(await run_throughput(endpoint, throughput, server))
    return results

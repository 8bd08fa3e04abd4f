"""``opbx bench`` (a Pusher-protocol server, ours or any other) and ``opbx bench-calls`` (the backend)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from opbx.cli.common import Parser, configure_logging, run

__all__ = ["register"]


def _cmd_bench(args: argparse.Namespace) -> int:
    from opbx.bench.runner import run_from_args

    configure_logging(args.log_level, default="warning")
    return run_from_args(args)


def _cmd_bench_calls(args: argparse.Namespace) -> int:
    from opbx.bench.calls import result_json, run_call_bench
    from opbx.bench.scratch import chosen_url

    configure_logging(args.log_level, default="warning")
    database_url = chosen_url(args.layout, args.database_url, os.environ)
    result = run(
        run_call_bench(
            rate=args.rate,
            duration=args.duration,
            warmup=args.warmup,
            in_flight=args.in_flight,
            pin=not args.no_pin,
            layout=args.layout,
            database_url=database_url,
        )
    )
    print(result.report(), flush=True)
    if args.json:
        Path(args.json).write_bytes(result_json(result))
    return 0 if result.complete else 1


def register(commands: Any) -> None:
    from opbx.bench.runner import add_arguments

    bench: Parser = commands.add_parser("bench", help="measure a Pusher-protocol server (ours or any other)")
    add_arguments(bench)
    bench.set_defaults(handler=_cmd_bench)

    calls: Parser = commands.add_parser(
        "bench-calls", help="measure the backend: webhook to event latency and throughput"
    )
    calls.add_argument(
        "--layout",
        choices=("embedded", "production"),
        default="embedded",
        help="embedded: opbx serve on SQLite (the default); production: opbx api on PostgreSQL + opbx realtime",
    )
    calls.add_argument(
        "--database-url",
        metavar="URL",
        help="default: SQLite in a temporary directory (embedded), DATABASE_URL (production); "
        "on PostgreSQL the bench makes and drops a database of its own",
    )
    calls.add_argument("--rate", type=float, default=100.0, help="latency: webhooks per second (100)")
    calls.add_argument("--duration", type=float, default=10.0, help="seconds measured, each phase (10)")
    calls.add_argument("--warmup", type=float, default=2.0, help="latency: seconds before measuring (2)")
    calls.add_argument("--in-flight", type=int, default=8, help="throughput: webhooks in flight (8)")
    calls.add_argument("--no-pin", action="store_true", help="pin neither process")
    calls.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    calls.add_argument("--log-level", help="debug, info, warning or error (default warning)")
    calls.set_defaults(handler=_cmd_bench_calls)

"""``opbx simulate``: realistic signed provider webhooks for every organization, or one."""

from __future__ import annotations

import argparse
from typing import Any

from opbx.cli.common import DATABASE, LOGGING, Parser, configure_logging, record_id, run, with_directory
from opbx.configuration import ConfigError
from opbx.directory import organizations
from opbx.simulator import SimulatedOrganization, Simulator

__all__ = ["register"]


def _organizations(args: argparse.Namespace) -> list[SimulatedOrganization]:
    if args.org is not None:
        if not args.secret or not args.dids:
            raise ConfigError("opbx simulate --org: also give --secret and --dids")
        extensions = tuple(args.extensions.split(",")) if args.extensions else ()
        return [SimulatedOrganization(args.org, args.secret, tuple(args.dids.split(",")), extensions)]
    plans = with_directory(args, organizations.number_plans)
    return [
        SimulatedOrganization(plan.organization_id, plan.webhook_secret, plan.dids, plan.extensions) for plan in plans
    ]


async def _simulate(args: argparse.Namespace, simulated: list[SimulatedOrganization]) -> None:
    simulator = Simulator(args.url, simulated, calls_per_minute=args.rate, speed=args.speed, seed=args.seed)
    print(
        f"simulating about {args.rate:g} calls a minute for {len(simulated)} organization(s) at {args.url}", flush=True
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


def _cmd_simulate(args: argparse.Namespace) -> int:
    configure_logging(args.log_level, default="warning")
    run(_simulate(args, _organizations(args)))
    return 0


def register(commands: Any) -> None:
    simulate: Parser = commands.add_parser(
        "simulate", parents=[LOGGING, DATABASE], help="post signed provider webhooks for simulated calls"
    )
    simulate.add_argument("--url", default="http://127.0.0.1:8000", help="the backend (default http://127.0.0.1:8000)")
    simulate.add_argument("--rate", type=float, default=6.0, help="calls per minute (default 6)")
    simulate.add_argument("--duration", type=float, help="seconds to start calls for (default: until stopped)")
    simulate.add_argument("--speed", type=float, default=1.0, help="compress every wait by this factor")
    simulate.add_argument("--seed", type=int, help="random seed, for a repeatable run")
    simulate.add_argument(
        "--org", type=record_id, metavar="ID", help="organization id (default: every organization in the database)"
    )
    simulate.add_argument("--secret", help="with --org: its webhook secret")
    simulate.add_argument("--dids", help="with --org: its numbers, comma-separated")
    simulate.add_argument("--extensions", default="", help="with --org: extension numbers, comma-separated")
    simulate.set_defaults(handler=_cmd_simulate)

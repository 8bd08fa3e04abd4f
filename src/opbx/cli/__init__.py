"""The ``opbx`` command.

``opbx serve`` runs the whole system in one process; ``opbx realtime`` and ``opbx api`` run
its parts apart (the production layout); ``opbx org|user|extension|did`` provision an
organization; ``opbx db upgrade`` migrates the database; ``opbx check-config`` prints the
effective settings; ``opbx bench`` and ``opbx bench-calls`` measure; ``opbx simulate`` posts
simulated provider webhooks; ``opbx call-states`` prints the call-state diagram.

Every refusal (a bad setting, a taken port, an unreachable database, a refused directory
change) is one line on stderr and exit status 2, handled here once.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from opbx import __version__
from opbx.cli import bench, call_states, check_config, database, did, extension, org, servers, simulate, user
from opbx.cli.common import Parser
from opbx.configuration import ConfigError
from opbx.directory.errors import DirectoryError

__all__ = ["build_parser", "main"]

_GROUPS = (servers, org, user, extension, did, database, check_config, simulate, bench, call_states)


def build_parser() -> Parser:
    parser = Parser(prog="opbx", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"opbx {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for group in _GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except ConfigError as exc:
        print(f"opbx: {exc}", file=sys.stderr, flush=True)
        return 2
    except DirectoryError as exc:
        command = " ".join(part for part in (args.command, getattr(args, "action", None)) if part)
        print(f"opbx {command}: {exc.message}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        return 130
    return code

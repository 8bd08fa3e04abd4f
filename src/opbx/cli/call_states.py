"""``opbx call-states``: the call-state diagram, drawn from the transition table."""

from __future__ import annotations

import argparse
from typing import Any

from opbx.cli.common import Parser

__all__ = ["register"]


def _cmd_call_states(args: argparse.Namespace) -> int:
    from opbx.telephony.diagram import mermaid

    print(mermaid())
    return 0


def register(commands: Any) -> None:
    states: Parser = commands.add_parser("call-states", help="print the call-state diagram (Mermaid)")
    states.set_defaults(handler=_cmd_call_states)

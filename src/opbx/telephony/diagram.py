"""The call-state diagram, drawn from the transition table (never by hand).

``docs/call-states.md`` embeds :func:`mermaid`'s output; a test fails when they differ,
and ``opbx call-states`` prints it.
"""

from __future__ import annotations

from opbx.telephony.states import TERMINAL, TRANSITIONS, CallState

__all__ = ["mermaid"]


def mermaid() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {CallState.INITIATED.value}"]
    for state, targets in TRANSITIONS.items():
        lines.extend(f"    {state.value} --> {target.value}" for target in sorted(targets))
    lines.extend(f"    {state.value} --> [*]" for state in sorted(TERMINAL))
    return "\n".join(lines)

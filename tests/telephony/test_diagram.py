"""The documented diagram is the table's."""

from __future__ import annotations

from pathlib import Path

from opbx.telephony.diagram import mermaid
from opbx.telephony.states import TRANSITIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "call-states.md"


def test_every_transition_is_drawn() -> None:
    diagram = mermaid()
    for state, targets in TRANSITIONS.items():
        for target in targets:
            assert f"    {state.value} --> {target.value}\n" in diagram + "\n"


def test_the_documentation_shows_the_current_table() -> None:
    assert f"```mermaid\n{mermaid()}\n```" in DOC.read_text()

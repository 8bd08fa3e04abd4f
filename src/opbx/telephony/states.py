"""The call lifecycle as one transition table (the way h11 writes its state machine).

Everything that decides whether a call may move from one state to another lives here;
``docs/call-states.md`` draws its diagram from :data:`TRANSITIONS`
(``opbx docs-diagram`` regenerates it). Provider statuses map onto these states in
:mod:`opbx.telephony.ingest`.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum

__all__ = [
    "TERMINAL",
    "TRANSITIONS",
    "CallState",
    "IllegalTransition",
    "is_stale",
    "path_to",
]


class CallState(StrEnum):
    INITIATED = "initiated"
    RINGING = "ringing"
    ANSWERED = "answered"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"


TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    CallState.INITIATED: frozenset(
        {CallState.RINGING, CallState.ANSWERED, CallState.BUSY, CallState.NO_ANSWER, CallState.FAILED}
    ),
    CallState.RINGING: frozenset({CallState.ANSWERED, CallState.BUSY, CallState.NO_ANSWER, CallState.FAILED}),
    CallState.ANSWERED: frozenset({CallState.COMPLETED, CallState.FAILED}),
    CallState.COMPLETED: frozenset(),
    CallState.BUSY: frozenset(),
    CallState.NO_ANSWER: frozenset(),
    CallState.FAILED: frozenset(),
}
"""Allowed moves. ``initiated → answered`` exists because a ``ringing`` report can be lost."""

TERMINAL = frozenset(state for state, targets in TRANSITIONS.items() if not targets)
"""Final states: once there, a call never moves again."""


class IllegalTransition(Exception):
    """A move the table does not allow (and no chain of allowed moves reaches)."""

    def __init__(self, current: CallState, target: CallState) -> None:
        self.current = current
        self.target = target
        super().__init__(f"a call cannot go from {current} to {target}")


def path_to(current: CallState, target: CallState) -> list[CallState]:
    """The shortest chain of allowed moves from ``current`` to ``target`` (excluding ``current``).

    A provider report can skip states (``completed`` arrives for a call last seen
    ``initiated`` when the ``answered`` report was lost): the service walks the chain
    so every state in between is recorded and broadcast. Raises :class:`IllegalTransition`
    when no chain exists.
    """
    if current == target:
        return []
    previous: dict[CallState, CallState] = {}
    queue = deque([current])
    while queue:
        state = queue.popleft()
        for following in sorted(TRANSITIONS[state]):
            if following in previous or following == current:
                continue
            previous[following] = state
            if following == target:
                chain = [target]
                while chain[-1] in previous and previous[chain[-1]] != current:
                    chain.append(previous[chain[-1]])
                return chain[::-1]
            queue.append(following)
    raise IllegalTransition(current, target)


def is_stale(current: CallState, target: CallState) -> bool:
    """True when ``target`` is at or behind ``current`` (a late or repeated report)."""
    if current == target:
        return True
    try:
        path_to(target, current)
    except IllegalTransition:
        return False
    return True

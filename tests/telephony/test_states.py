"""The call transition table."""

from __future__ import annotations

import pytest

from opbx.telephony.states import TERMINAL, TRANSITIONS, CallState, IllegalTransition, is_stale, path_to

S = CallState


def test_the_table_is_the_documented_lifecycle() -> None:
    assert TRANSITIONS[S.INITIATED] == {S.RINGING, S.ANSWERED, S.BUSY, S.NO_ANSWER, S.FAILED}
    assert TRANSITIONS[S.RINGING] == {S.ANSWERED, S.BUSY, S.NO_ANSWER, S.FAILED}
    assert TRANSITIONS[S.ANSWERED] == {S.COMPLETED, S.FAILED}
    assert {S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED} == TERMINAL


@pytest.mark.parametrize(
    ("current", "target", "path"),
    [
        (S.INITIATED, S.RINGING, [S.RINGING]),
        (S.RINGING, S.ANSWERED, [S.ANSWERED]),
        (S.INITIATED, S.COMPLETED, [S.ANSWERED, S.COMPLETED]),
        (S.RINGING, S.COMPLETED, [S.ANSWERED, S.COMPLETED]),
        (S.INITIATED, S.NO_ANSWER, [S.NO_ANSWER]),
        (S.ANSWERED, S.ANSWERED, []),
    ],
)
def test_paths_walk_allowed_moves(current: CallState, target: CallState, path: list[CallState]) -> None:
    assert path_to(current, target) == path


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.ANSWERED, S.RINGING), (S.ANSWERED, S.BUSY), (S.COMPLETED, S.FAILED), (S.BUSY, S.ANSWERED)],
)
def test_illegal_moves_raise(current: CallState, target: CallState) -> None:
    with pytest.raises(IllegalTransition):
        path_to(current, target)


def test_stale_reports_are_those_behind_the_current_state() -> None:
    assert is_stale(S.ANSWERED, S.RINGING)
    assert is_stale(S.ANSWERED, S.INITIATED)
    assert is_stale(S.COMPLETED, S.ANSWERED)
    assert is_stale(S.RINGING, S.RINGING)
    assert not is_stale(S.RINGING, S.ANSWERED)
    assert not is_stale(S.ANSWERED, S.BUSY)  # not behind: a contradiction, not a late report

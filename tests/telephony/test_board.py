"""The extensions board's rules, on records made in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opbx.db.models import CallLog, Extension, User
from opbx.telephony.board import BoardCall, BoardState, extension_status

T0 = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
EXTENSION = Extension(id=7, organization_id=1, number="101", user_id=3)
USER = User(id=3, organization_id=1, name="Ada")


def call(
    number: int, status: str, *, extension_id: int | None = 7, rang: bool = True, answered: bool = False
) -> CallLog:
    start = T0 + timedelta(seconds=number)
    return CallLog(
        id=number,
        call_id=f"c{number}",
        organization_id=1,
        direction="inbound",
        from_number=f"+1555000{number:04d}",
        to_number="+15550001000",
        extension_id=extension_id,
        status=status,
        initiated_at=start,
        ringing_at=start + timedelta(seconds=1) if rang else None,
        answered_at=start + timedelta(seconds=5) if answered else None,
    )


@pytest.mark.parametrize(
    ("present", "online", "state"),
    [({"3"}, True, BoardState.AVAILABLE), ({"4"}, False, BoardState.OFFLINE), (None, None, BoardState.OFFLINE)],
    ids=["present", "absent", "unknown"],
)
def test_without_a_call_presence_decides(present: set[str] | None, online: bool | None, state: BoardState) -> None:
    status = extension_status(EXTENSION, USER, [], present)
    assert (status.id, status.number, status.user, status.online, status.state, status.call) == (
        7,
        "101",
        USER,
        online,
        state,
        None,
    )


def test_an_extension_without_a_user_is_offline_and_known_not_online() -> None:
    status = extension_status(EXTENSION, None, [], {"3"})
    assert (status.state, status.online) == (BoardState.OFFLINE, False)
    assert extension_status(EXTENSION, None, [], None).online is False


def test_ringing_since_it_rang_with_the_earliest_call() -> None:
    calls = [call(20, "ringing"), call(10, "initiated", rang=False), call(30, "ringing", extension_id=8)]
    status = extension_status(EXTENSION, USER, calls, {"3"})
    assert status.state is BoardState.RINGING
    # The earliest is still only initiated: since it began.
    assert status.call == BoardCall(
        "c10", "initiated", "inbound", "+15550000010", "+15550001000", calls[1].initiated_at
    )
    later = extension_status(EXTENSION, USER, [calls[0]], {"3"})
    assert later.call is not None
    assert (later.call.status, later.call.since) == ("ringing", T0 + timedelta(seconds=21))


def test_on_a_call_wins_over_ringing_and_over_presence() -> None:
    calls = [call(1, "ringing"), call(2, "answered", answered=True)]
    status = extension_status(EXTENSION, USER, calls, None)  # signed out, yet talking
    assert status.state is BoardState.ON_CALL
    assert status.online is None
    assert status.call is not None
    assert (status.call.call_id, status.call.status, status.call.since) == ("c2", "answered", T0 + timedelta(seconds=7))


def test_other_extensions_calls_and_ended_calls_change_nothing() -> None:
    calls = [
        call(1, "answered", extension_id=8, answered=True),
        call(2, "ringing", extension_id=None),
        call(3, "completed", answered=True),
        call(4, "no_answer"),
    ]
    assert extension_status(EXTENSION, USER, calls, {"3"}).state is BoardState.AVAILABLE

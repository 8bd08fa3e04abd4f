"""The extensions board: each extension's state, from its active calls and who is signed in.

A pure function of what the query layer read (:func:`extension_status`), so the rules are
tested without a database or a realtime server:

* ``on-call``: an active call of the extension is ``answered`` (since its answer);
* ``ringing``: otherwise, one is ``initiated`` or ``ringing`` (the earliest; since it rang,
  or since it began when no ringing was reported);
* ``available``: otherwise, when its user is on the organization's presence channel;
* ``offline``: otherwise (no user, a user not signed in, or presence that could not be asked).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal, cast

from opbx.db.models import CallLog, Extension, User
from opbx.telephony.states import CallState

__all__ = ["ActiveStatus", "BoardCall", "BoardState", "ExtensionStatus", "extension_status"]


ActiveStatus = Literal["initiated", "ringing", "answered"]


class BoardState(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on-call"


@dataclass(frozen=True, slots=True)
class BoardCall:
    """The call behind a ringing or busy extension."""

    call_id: str
    status: ActiveStatus
    direction: str
    from_number: str
    to_number: str
    since: datetime


@dataclass(frozen=True, slots=True)
class ExtensionStatus:
    id: int
    number: str
    user: User | None
    state: BoardState
    online: bool | None
    """Whether its user is on the presence channel; None when presence could not be asked."""
    call: BoardCall | None


_RINGING = (CallState.INITIATED, CallState.RINGING)


def extension_status(
    extension: Extension, user: User | None, calls: Sequence[CallLog], present: Collection[str] | None
) -> ExtensionStatus:
    """The board's entry for ``extension``.

    ``calls`` are the organization's active calls (those of other extensions are passed over);
    ``present`` the user ids on its presence channel, None when they could not be asked.
    """
    if user is None:
        online: bool | None = False
    else:
        online = None if present is None else str(user.id) in present
    mine = [call for call in calls if call.extension_id == extension.id]
    talking = [call for call in mine if call.status == CallState.ANSWERED]
    waiting = [call for call in mine if call.status in _RINGING]
    state, behind = BoardState.AVAILABLE if online else BoardState.OFFLINE, None
    if talking:
        call = min(talking, key=lambda call: (call.answered_at or call.initiated_at, call.id))
        state, behind = BoardState.ON_CALL, _board(call, call.answered_at or call.initiated_at)
    elif waiting:
        call = min(waiting, key=lambda call: (call.initiated_at, call.id))
        state, behind = BoardState.RINGING, _board(call, call.ringing_at or call.initiated_at)
    return ExtensionStatus(extension.id, extension.number, user, state, online, behind)


def _board(call: CallLog, since: datetime) -> BoardCall:
    return BoardCall(
        call.call_id, cast(ActiveStatus, call.status), call.direction, call.from_number, call.to_number, since
    )

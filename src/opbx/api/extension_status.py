"""``GET /api/v1/extensions/status``: the extensions board's snapshot.

Every extension of the caller's organization with its state (offline, available, ringing,
on a call) and the call behind it; the dashboard reads it on load, on a resync and while
polling, then keeps it live from the presence channel and the call events. Who is signed in
is asked of the realtime server (the members of ``presence-org.{id}``); when it cannot be
asked, ``online`` is null and an extension without a call shows offline.
"""

from __future__ import annotations

from msgspec import Struct
from starlette.requests import Request
from starlette.responses import Response

from opbx.api.auth import require_user
from opbx.api.context import context_of
from opbx.api.contract import Operation, json_response
from opbx.telephony.board import ActiveStatus, BoardCall, BoardState, ExtensionStatus
from opbx.telephony.events import iso8601, organization_channel
from opbx.telephony.queries import CallQueries

__all__ = ["OPERATIONS"]


class StatusUser(Struct, frozen=True):
    id: int
    name: str


class StatusCall(Struct, frozen=True, kw_only=True):
    call_id: str
    status: ActiveStatus
    direction: str
    from_number: str
    to_number: str
    since: str
    """On a call: when it was answered; ringing: when it rang (or began, when no ringing was reported)."""


class ExtensionStatusEntry(Struct, frozen=True, kw_only=True):
    id: int
    number: str
    user: StatusUser | None
    state: BoardState
    online: bool | None
    """Whether its user is on the organization's presence channel; null when the realtime server could not be asked."""
    call: StatusCall | None
    """The call behind ringing or on-call; null otherwise."""


class ExtensionBoard(Struct, frozen=True):
    data: list[ExtensionStatusEntry]
    """In numeric order of the extension numbers."""
    server_time: str
    """Tick the times since from this, not from the browser's clock."""
    seq: int
    """The organization's latest event this snapshot reflects: apply only events with a higher seq."""


def _call(call: BoardCall | None) -> StatusCall | None:
    if call is None:
        return None
    return StatusCall(
        call_id=call.call_id,
        status=call.status,
        direction=call.direction,
        from_number=call.from_number,
        to_number=call.to_number,
        since=iso8601(call.since),
    )


def _entry(status: ExtensionStatus) -> ExtensionStatusEntry:
    user = status.user
    return ExtensionStatusEntry(
        id=status.id,
        number=status.number,
        user=StatusUser(user.id, user.name) if user is not None else None,
        state=status.state,
        online=status.online,
        call=_call(status.call),
    )


async def extensions_status(request: Request) -> Response:
    authenticated = await require_user(request)
    context = context_of(request)
    organization_id = authenticated.user.organization_id
    # Asked before the database is read: no transaction stays open while the realtime server answers.
    present = await context.broadcaster.present_users(organization_channel(organization_id))
    async with context.database.reader() as session:
        queries = CallQueries(session, organization_id)
        # The seq first: the board then reflects at least it, and events after it replay harmlessly.
        seq = await queries.seq()
        board = await queries.board(present)
    return json_response(ExtensionBoard([_entry(status) for status in board], iso8601(context.now()), seq))


OPERATIONS = (
    Operation("GET", "/api/v1/extensions/status", extensions_status,
              "Every extension's state: offline, available, ringing or on a call (the board's snapshot)",
              "Extensions", {200: ExtensionBoard},
              description="Any member of the organization. `online` is asked of the realtime server "
              "(members of presence-org.{id}); null when it could not be asked."),
)  # fmt: skip

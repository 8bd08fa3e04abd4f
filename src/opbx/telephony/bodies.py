"""The provider's webhook bodies as typed declarations: what :mod:`opbx.telephony.ingest`
reads, and what the API's OpenAPI document shows (``docs/webhooks.md`` explains each field).

Fields have the JSON types the provider sends (numbers and identifiers may come as strings
or integers, times as ISO 8601 strings or epoch numbers); a field of another type is refused
(HTTP 422) with its name. Unknown fields are allowed and kept with the call, verbatim.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = [
    "BODIES",
    "CallId",
    "CallIds",
    "CallInitiatedBody",
    "CallStatusBody",
    "CdrBody",
    "CdrSession",
    "Direction",
    "Moment",
    "Seconds",
    "Text",
]

Text = Annotated[str, msgspec.Meta(max_length=64)] | int | None
"""A number or an identifier: a string (64 characters at most) or an integer; empty or absent is None."""
CallId = Annotated[str, msgspec.Meta(max_length=128)] | int | None
Moment = Annotated[str, msgspec.Meta(max_length=64)] | int | float | None
"""An ISO 8601 string, or epoch seconds (or milliseconds, above 10^11), from 2000 to 2199."""
Seconds = Annotated[str, msgspec.Meta(max_length=20)] | int | float | None
"""Whole seconds from 0 to ten days (a numeric string is accepted)."""
CallIds = Annotated[list[Annotated[str, msgspec.Meta(max_length=128)] | int], msgspec.Meta(max_length=100)] | None
"""Cloudonix's list of the call's ids: the first is the one we key the call by."""
Direction = Literal["inbound", "outbound"] | None


class CallInitiatedBody(msgspec.Struct, kw_only=True):
    """``POST /webhooks/cloudonix/call-initiated``: a call has arrived."""

    call_id: CallId = None
    callIds: CallIds = None
    from_: Text = msgspec.field(name="from", default=None)
    to: Text = None
    did: Text = None
    timestamp: Moment = None
    direction: Direction = None
    status: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    """A provider status; ``initiated`` when absent."""


class CallStatusBody(msgspec.Struct, kw_only=True):
    """``POST /webhooks/cloudonix/call-status``: a Cloudonix session record, sent on each change."""

    status: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    callIds: CallIds = None
    call_id: CallId = None
    callId: CallId = None
    callerId: Text = None
    from_: Text = msgspec.field(name="from", default=None)
    destination: Text = None
    to: Text = None
    did: Text = None
    direction: Direction = None
    extension: Text = None
    answeredBy: Text = None
    answerTime: Moment = None
    endTime: Moment = None
    modifiedAt: Moment = None
    startTime: Moment = None
    """Epoch milliseconds: when the call began (read when this report creates the call)."""


class CdrSession(msgspec.Struct, kw_only=True):
    """The session record inside a CDR; kept whole, three fields read."""

    endTime: Moment = None
    answerTime: Moment = None
    direction: Direction = None


class CdrBody(msgspec.Struct, kw_only=True):
    """``POST /webhooks/cloudonix/cdr``: the call detail record, once the call has ended."""

    call_id: CallId = None
    callIds: CallIds = None
    disposition: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    billsec: Seconds = None
    """Billed talk seconds (a numeric string is accepted)."""
    duration: Seconds = None
    """Seconds including ringing: kept, not read."""
    recording_url: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    from_: Text = msgspec.field(name="from", default=None)
    to: Text = None
    did: Text = None
    direction: Direction = None
    extension: Text = None
    timestamp: Moment = None
    session: CdrSession | None = None


BODIES: dict[str, type[msgspec.Struct]] = {
    "call-initiated": CallInitiatedBody,
    "call-status": CallStatusBody,
    "cdr": CdrBody,
}
"""Each webhook's path segment and its body."""

"""The provider's webhook bodies as typed declarations: what :mod:`opbx.telephony.ingest`
reads, and what the API's OpenAPI document shows (``docs/webhooks.md`` explains each field).

Fields have the JSON types the provider sends (numbers and identifiers may come as strings
or integers, times as ISO 8601 strings or epoch numbers); a field of another type is refused
(HTTP 422) with its name. Unknown fields are allowed and kept with the call, verbatim.
"""

from __future__ import annotations

import msgspec

__all__ = ["BODIES", "CallInitiatedBody", "CallStatusBody", "CdrBody", "CdrSession", "Moment", "Text"]

Text = str | int | None
"""A number or an identifier: a string or an integer; empty or absent is None."""
Moment = str | int | float | None
"""An ISO 8601 string, or epoch seconds (or milliseconds, above 10^11)."""


class CallInitiatedBody(msgspec.Struct, kw_only=True):
    """``POST /webhooks/cloudonix/call-initiated``: a call has arrived."""

    call_id: Text = None
    callIds: list[str | int] | None = None
    from_: Text = msgspec.field(name="from", default=None)
    to: Text = None
    did: Text = None
    timestamp: Moment = None
    direction: Text = None
    status: str | None = None
    """A provider status; ``initiated`` when absent."""


class CallStatusBody(msgspec.Struct, kw_only=True):
    """``POST /webhooks/cloudonix/call-status``: a Cloudonix session record, sent on each change."""

    status: str | None = None
    callIds: list[str | int] | None = None
    call_id: Text = None
    callId: Text = None
    callerId: Text = None
    from_: Text = msgspec.field(name="from", default=None)
    destination: Text = None
    to: Text = None
    did: Text = None
    direction: Text = None
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
    direction: Text = None


class CdrBody(msgspec.Struct, kw_only=True):
    """``POST /webhooks/cloudonix/cdr``: the call detail record, once the call has ended."""

    call_id: Text = None
    callIds: list[str | int] | None = None
    disposition: str | None = None
    billsec: int | float | str | None = None
    """Billed talk seconds (a numeric string is accepted)."""
    duration: int | float | str | None = None
    """Seconds including ringing: kept, not read."""
    recording_url: str | None = None
    from_: Text = msgspec.field(name="from", default=None)
    to: Text = None
    did: Text = None
    direction: Text = None
    extension: Text = None
    timestamp: Moment = None
    session: CdrSession | None = None


BODIES: dict[str, type[msgspec.Struct]] = {
    "call-initiated": CallInitiatedBody,
    "call-status": CallStatusBody,
    "cdr": CdrBody,
}
"""Each webhook's path segment and its body."""

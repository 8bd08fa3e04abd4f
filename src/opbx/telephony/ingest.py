"""Provider (Cloudonix) webhooks turned into domain reports, and how they are verified.

Three webhooks, as the public OpBX documentation describes them:

* ``call-initiated``: ``{call_id, from, to, did, timestamp, direction, status}``
* ``call-status``: a Cloudonix session record: ``status`` (ringing, answered or in-progress,
  completed, busy, no-answer, failed, canceled), ``callIds``, ``callerId``, ``destination``,
  times in milliseconds (``startTime``, ``answerTime``, ``endTime``, ``modifiedAt``)
* ``cdr``: ``{call_id, from, to, disposition, duration, billsec, recording_url, session{...}}``

Unknown extra fields are kept (the whole body is stored with the call), never rejected.
The signature (``X-Cloudonix-Signature``: hex HMAC-SHA256 of the raw body with the
organization's secret) is checked before the body is parsed; see :func:`verify_signature`.
How provider statuses map onto :class:`~opbx.telephony.states.CallState` is documented in
``docs/call-states.md`` and written once, in :data:`PROVIDER_STATUSES`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec
import orjson

from opbx.parsing import parse_moment, parse_seconds
from opbx.telephony.bodies import BODIES, CallInitiatedBody, CallStatusBody, CdrBody, CdrSession
from opbx.telephony.states import CallState

__all__ = [
    "CDR_DISPOSITIONS",
    "PROVIDER_STATUSES",
    "InvalidWebhook",
    "ProviderReport",
    "WebhookKind",
    "parse_webhook",
    "sign_body",
    "verify_signature",
    "webhook_path",
]

SIGNATURE_HEADER = "x-cloudonix-signature"


class WebhookKind(StrEnum):
    CALL_INITIATED = "call-initiated"
    CALL_STATUS = "call-status"
    CDR = "cdr"


def webhook_path(kind: WebhookKind | str) -> str:
    """Where the provider posts webhooks of ``kind``: ``/webhooks/cloudonix/{kind}``."""
    return f"/webhooks/cloudonix/{WebhookKind(kind).value}"


PROVIDER_STATUSES: dict[str, CallState] = {
    "new": CallState.INITIATED,
    "initiated": CallState.INITIATED,
    "processing": CallState.INITIATED,
    "ringing": CallState.RINGING,
    "answered": CallState.ANSWERED,
    "in-progress": CallState.ANSWERED,
    "connected": CallState.ANSWERED,
    "completed": CallState.COMPLETED,
    "busy": CallState.BUSY,
    "no-answer": CallState.NO_ANSWER,
    "noanswer": CallState.NO_ANSWER,
    "no_answer": CallState.NO_ANSWER,
    # The caller hung up before anyone answered: for the organization, a missed call.
    "canceled": CallState.NO_ANSWER,
    "cancelled": CallState.NO_ANSWER,
    "failed": CallState.FAILED,
    "error": CallState.FAILED,
    "congestion": CallState.FAILED,
}
"""Provider status (lower-cased) to call state."""

CDR_DISPOSITIONS: dict[str, CallState] = {
    "answered": CallState.COMPLETED,
    "completed": CallState.COMPLETED,
    "no answer": CallState.NO_ANSWER,
    "no-answer": CallState.NO_ANSWER,
    "noanswer": CallState.NO_ANSWER,
    "busy": CallState.BUSY,
    "failed": CallState.FAILED,
    "congestion": CallState.FAILED,
    "cancel": CallState.NO_ANSWER,
    "canceled": CallState.NO_ANSWER,
    "cancelled": CallState.NO_ANSWER,
}
"""A CDR's final disposition (lower-cased) to call state."""


class InvalidWebhook(ValueError):
    """A webhook body that cannot be understood; the message says why (HTTP 422)."""


@dataclass(frozen=True, slots=True)
class ProviderReport:
    """What one webhook says about one call."""

    kind: WebhookKind
    call_id: str
    state: CallState
    occurred_at: datetime
    from_number: str | None = None
    to_number: str | None = None
    did: str | None = None
    direction: str | None = None
    extension: str | None = None
    """Number of the extension that answered, when the provider says."""
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    talk_seconds: int | None = None
    recording_url: str | None = None
    raw: dict[str, Any] | None = None


def sign_body(secret: str, body: bytes) -> str:
    """The ``X-Cloudonix-Signature`` a provider (or the simulator) sends with ``body``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, signature: str | None) -> bool:
    """Constant-time check of a webhook's signature; a missing one never passes."""
    if not signature:
        return False
    return hmac.compare_digest(sign_body(secret, body).encode(), signature.strip().lower().encode())


def _text(*fields: tuple[str, str | int | None]) -> str | None:
    """The first field given (an empty string counts as absent), as text; control characters refused."""
    for name, value in fields:
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str) and value:
            if not value.isprintable():
                raise InvalidWebhook(f"'{name}' has control characters")
            return value
    return None


def _moment(value: str | int | float | None, field: str) -> datetime | None:
    """ISO 8601 strings, or epoch numbers in seconds or milliseconds, within a sane range."""
    if value is None or value == "":
        return None
    try:
        return parse_moment(value)
    except ValueError as exc:
        raise InvalidWebhook(f"'{field}': {exc}") from None


def _seconds(value: str | int | float | None, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return parse_seconds(value)
    except ValueError as exc:
        raise InvalidWebhook(f"'{field}': {exc}") from None


def _state(table: dict[str, CallState], value: object, field: str) -> CallState:
    if not isinstance(value, str) or value.strip().lower() not in table:
        known = ", ".join(sorted(table))
        raise InvalidWebhook(f"'{field}' must be one of {known}; got {str(value)[:40]!r}")
    return table[value.strip().lower()]


def parse_webhook(kind: WebhookKind, body: bytes, now: datetime) -> ProviderReport:
    """Parse one verified webhook body into a :class:`ProviderReport`."""
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidWebhook("body is not valid JSON") from None
    if not isinstance(decoded, dict):
        raise InvalidWebhook("body must be a JSON object")
    try:
        typed = msgspec.convert(decoded, BODIES[kind.value])
    except msgspec.ValidationError as exc:
        raise InvalidWebhook(str(exc).replace("`$.", "`")) from None
    if isinstance(typed, CallInitiatedBody):
        return _call_initiated(typed, decoded, now)
    if isinstance(typed, CallStatusBody):
        return _call_status(typed, decoded, now)
    assert isinstance(typed, CdrBody)
    return _cdr(typed, decoded, now)


def _require_call_id(call_ids: list[str | int] | None, *candidates: tuple[str, str | int | None]) -> str:
    call_id = _text(*candidates)
    if call_id is None and call_ids:
        call_id = _text(("callIds", call_ids[0]))
    if call_id is None:
        raise InvalidWebhook("missing call id (call_id or callIds)")
    if len(call_id) > 128:
        raise InvalidWebhook("call id is longer than 128 characters")
    return call_id


def _call_initiated(body: CallInitiatedBody, raw: dict[str, Any], now: datetime) -> ProviderReport:
    return ProviderReport(
        kind=WebhookKind.CALL_INITIATED,
        call_id=_require_call_id(body.callIds, ("call_id", body.call_id)),
        state=_state(PROVIDER_STATUSES, body.status or "initiated", "status"),
        occurred_at=_moment(body.timestamp, "timestamp") or now,
        from_number=_text(("from", body.from_)),
        to_number=_text(("to", body.to)),
        did=_text(("did", body.did), ("to", body.to)),
        direction=body.direction or "inbound",
        raw=raw,
    )


def _call_status(body: CallStatusBody, raw: dict[str, Any], now: datetime) -> ProviderReport:
    state = _state(PROVIDER_STATUSES, body.status, "status")
    answered_at = _moment(body.answerTime, "answerTime")
    ended_at = _moment(body.endTime, "endTime")
    occurred_at = _moment(body.modifiedAt, "modifiedAt") or now
    return ProviderReport(
        kind=WebhookKind.CALL_STATUS,
        call_id=_require_call_id(body.callIds, ("call_id", body.call_id), ("callId", body.callId)),
        state=state,
        occurred_at=occurred_at,
        from_number=_text(("callerId", body.callerId), ("from", body.from_)),
        to_number=_text(("destination", body.destination), ("to", body.to)),
        did=_text(("did", body.did), ("destination", body.destination), ("to", body.to)),
        direction=body.direction,
        extension=_text(("extension", body.extension), ("answeredBy", body.answeredBy)),
        answered_at=answered_at,
        ended_at=ended_at,
        raw=raw,
    )


def _cdr(body: CdrBody, raw: dict[str, Any], now: datetime) -> ProviderReport:
    session = body.session or CdrSession()
    state = _state(CDR_DISPOSITIONS, body.disposition, "disposition")
    ended_at = _moment(session.endTime, "session.endTime") or _moment(body.timestamp, "timestamp") or now
    answered_at = _moment(session.answerTime, "session.answerTime")
    return ProviderReport(
        kind=WebhookKind.CDR,
        call_id=_require_call_id(body.callIds, ("call_id", body.call_id)),
        state=state,
        occurred_at=ended_at,
        from_number=_text(("from", body.from_)),
        to_number=_text(("to", body.to)),
        did=_text(("did", body.did), ("to", body.to)),
        direction=body.direction or session.direction,
        extension=_text(("extension", body.extension)),
        answered_at=answered_at,
        ended_at=ended_at,
        talk_seconds=_seconds(body.billsec, "billsec"),
        recording_url=_text(("recording_url", body.recording_url)),
        raw=raw,
    )

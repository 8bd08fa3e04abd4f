"""Parsing provider webhooks and checking their signatures (no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from opbx.telephony.ingest import InvalidWebhook, WebhookKind, parse_webhook, sign_body, verify_signature
from opbx.telephony.states import CallState

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


def parse(kind: WebhookKind, **fields: object) -> object:
    return parse_webhook(kind, json.dumps(fields).encode(), NOW)


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    signature = sign_body("secret", b'{"a":1}')
    assert verify_signature("secret", b'{"a":1}', signature)
    assert verify_signature("secret", b'{"a":1}', signature.upper())
    assert not verify_signature("secret", b'{"a": 1}', signature)
    assert not verify_signature("other", b'{"a":1}', signature)
    assert not verify_signature("secret", b'{"a":1}', None)
    assert not verify_signature("secret", b'{"a":1}', "")


def test_call_initiated() -> None:
    report = parse_webhook(
        WebhookKind.CALL_INITIATED,
        json.dumps(
            {"call_id": "c1", "from": "+1", "to": "+2", "did": "+2", "timestamp": "2027-01-15T07:59:00Z", "x": 1}
        ).encode(),
        NOW,
    )
    assert (report.call_id, report.state, report.from_number, report.did) == ("c1", CallState.INITIATED, "+1", "+2")
    assert report.occurred_at == datetime(2027, 1, 15, 7, 59, tzinfo=UTC)
    assert report.raw is not None
    assert report.raw["x"] == 1


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("ringing", CallState.RINGING),
        ("answered", CallState.ANSWERED),
        ("in-progress", CallState.ANSWERED),
        ("completed", CallState.COMPLETED),
        ("busy", CallState.BUSY),
        ("no-answer", CallState.NO_ANSWER),
        ("canceled", CallState.NO_ANSWER),
        ("failed", CallState.FAILED),
        ("Completed", CallState.COMPLETED),
    ],
)
def test_call_status_maps_provider_statuses(status: str, state: CallState) -> None:
    report = parse_webhook(
        WebhookKind.CALL_STATUS,
        json.dumps({"callIds": ["c1"], "status": status, "answerTime": 1_800_000_000_000}).encode(),
        NOW,
    )
    assert report.state is state
    assert report.call_id == "c1"
    assert report.answered_at == datetime.fromtimestamp(1_800_000_000, UTC)


def test_cdr_takes_disposition_billsec_and_recording() -> None:
    report = parse_webhook(
        WebhookKind.CDR,
        json.dumps(
            {"call_id": "c1", "disposition": "NO ANSWER", "billsec": "0", "session": {"endTime": 1_800_000_000_000}}
        ).encode(),
        NOW,
    )
    assert (report.state, report.talk_seconds) == (CallState.NO_ANSWER, 0)
    assert report.ended_at == datetime.fromtimestamp(1_800_000_000, UTC)


@pytest.mark.parametrize(
    ("kind", "raw", "fragment"),
    [
        (WebhookKind.CALL_INITIATED, b"{", "not valid JSON"),
        (WebhookKind.CALL_INITIATED, b"[]", "JSON object"),
        (WebhookKind.CALL_INITIATED, b'{"to": "+1"}', "missing call id"),
        (WebhookKind.CALL_STATUS, b'{"callIds": ["c"], "status": "sleeping"}', "'status' must be one of"),
        (WebhookKind.CALL_STATUS, b'{"callIds": ["c"], "status": "busy", "endTime": "soon"}', "endTime"),
        (WebhookKind.CDR, b'{"call_id": "c", "disposition": "ANSWERED", "billsec": -3}', "'billsec': -3 is not a"),
        (WebhookKind.CDR, b'{"call_id": "c", "disposition": "ANSWERED", "billsec": "lots"}', "billsec"),
        (WebhookKind.CALL_INITIATED, json.dumps({"call_id": "x" * 200}).encode(), "length <= 128 - at `call_id`"),
        # Times and durations out of any sane range, at the edges of the calendar.
        (WebhookKind.CALL_INITIATED, b'{"call_id": "c", "timestamp": "9999-12-31T23:59:59-14:00"}', "'timestamp'"),
        (WebhookKind.CALL_INITIATED, b'{"call_id": "c", "timestamp": "0001-01-01T00:00:00+14:00"}', "'timestamp'"),
        (WebhookKind.CALL_INITIATED, b'{"call_id": "c", "timestamp": 1e300}', "'timestamp'"),
        (WebhookKind.CALL_INITIATED, b'{"call_id": "c", "timestamp": -1}', "'timestamp'"),
        (WebhookKind.CALL_STATUS, b'{"callIds": ["c"], "status": "busy", "endTime": 99999999999999999}', "endTime"),
        (WebhookKind.CDR, b'{"call_id": "c", "disposition": "ANSWERED", "billsec": "1e400"}', "'billsec'"),
        (WebhookKind.CDR, b'{"call_id": "c", "disposition": "ANSWERED", "billsec": 86400000}', "'billsec'"),
        (WebhookKind.CDR, b'{"call_id": "c", "disposition": "ANSWERED", "billsec": "NaN"}', "'billsec'"),
        # Wrong JSON types and unknown values, named.
        (WebhookKind.CALL_INITIATED, b'{"call_id": "c", "direction": "sideways"}', "`direction`"),
        (WebhookKind.CALL_INITIATED, b'{"call_id": "c", "from": {"number": 1}}', "`from`"),
        (WebhookKind.CALL_INITIATED, b'{"call_id": {"id": 1}}', "`call_id`"),
        (WebhookKind.CALL_INITIATED, b'{"call_id": true}', "`call_id`"),
        (WebhookKind.CALL_STATUS, b'{"callIds": "c", "status": "busy"}', "`callIds`"),
        (WebhookKind.CDR, b'{"call_id": "c", "disposition": "ANSWERED", "session": []}', "`session`"),
        (WebhookKind.CDR, b'{"call_id": "c", "disposition": ["ANSWERED"]}', "`disposition`"),
        (WebhookKind.CALL_INITIATED, b'{"call_id": "c", "from": "+1\\u0000"}', "'from' has control characters"),
        (WebhookKind.CALL_INITIATED, b'{"call_id": "c", "to": "' + b"9" * 65 + b'"}', "`to`"),
        (WebhookKind.CALL_INITIATED, b"[" * 2000 + b"]" * 2000, "not valid JSON"),
    ],
)
def test_bodies_that_cannot_be_understood(kind: WebhookKind, raw: bytes, fragment: str) -> None:
    with pytest.raises(InvalidWebhook, match=fragment):
        parse_webhook(kind, raw, NOW)

"""From a provider webhook to a committed call state and its broadcasts.

``ingest → state machine → store → outbox``: the webhook is verified, parsed into a
:class:`~opbx.telephony.ingest.ProviderReport`, applied to the call along the transition
table, and every resulting event is written to the outbox in the same transaction as
the state it announces. The relay (:mod:`opbx.broadcasting.relay`) is handed them once
committed and sends them in order, retrying; so no event is lost when the realtime server
is down or slow.

Providers retry and reorder, so:

* a webhook whose exact body was already received changes nothing (a duplicate);
* a report behind the call's state (a late ``ringing`` after ``answered``) is ignored;
* a report ahead of it walks every state in between (a ``cdr`` for a call never seen
  creates it and broadcasts initiated, answered and ended);
* a terminal state is final: later reports may only fill in what it lacks
  (a recording URL, the billed seconds), never change it.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from opbx.broadcasting.relay import Pending
from opbx.clock import Clock, SystemClock
from opbx.db.engine import Database
from opbx.parsing import parse_record_id
from opbx.telephony.events import (
    AnsweredBy,
    CallAnswered,
    CallEnded,
    CallEvent,
    CallInitiated,
    CallRinging,
    extension_channel,
    organization_channel,
)
from opbx.telephony.ingest import InvalidWebhook, ProviderReport, WebhookKind, parse_webhook, verify_signature
from opbx.telephony.states import TERMINAL, CallState, IllegalTransition, is_stale, path_to
from opbx.telephony.store import Call, CallChange, CallStore, ExtensionRow, SecretChanged, SqlCallStore
from opbx.telephony.timing import PhaseTimes

__all__ = ["CallService", "Outcome", "UnknownDid", "WebhookForbidden", "WebhookResult", "WebhookUnauthorized"]

log = logging.getLogger("opbx.telephony")

_ATTEMPTS = 5


class WebhookUnauthorized(Exception):
    """The signature matches no organization's secret (HTTP 401)."""


class WebhookForbidden(Exception):
    """Signed by one organization, about another organization's number or call (HTTP 403)."""


class UnknownDid(Exception):
    """A new call to a number no organization owns (HTTP 404)."""


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(slots=True)
class _Change:
    """What one report does to one call, gathered before it is written."""

    call: Call | None
    before: Call | None
    """The call as it was read; None for a call this report creates."""
    report: ProviderReport
    digest: str
    now: datetime
    events: list[CallEvent] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WebhookResult:
    outcome: Outcome
    call_id: str
    status: str
    events: tuple[str, ...] = ()
    reason: str | None = None
    outbox: tuple[Pending, ...] = field(default=(), repr=False, compare=False)
    """The outbox rows the webhook committed, for the relay."""


class CallService:
    """Applies provider webhooks to the call log."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock | None = None,
        on_commit: Callable[[list[Pending]], None] | None = None,
        tell_leader: Callable[[Connection], None] | None = None,
    ) -> None:
        """``on_commit`` is handed the outbox rows of each webhook that wrote some, once committed;
        ``tell_leader`` is called in the transaction that wrote them, before it commits (for
        :meth:`opbx.broadcasting.leadership.Leadership.tell_leader`)."""
        self._database = database
        self._clock = clock or SystemClock()
        self._on_commit = on_commit or (lambda events: None)
        self._tell_leader = tell_leader or (lambda connection: None)
        self._secrets: dict[int, str] = {}
        """Webhook secrets by organization, as last read: tried first, confirmed by each transaction."""
        self.times = PhaseTimes()
        """Where applying webhooks spent its time (:mod:`opbx.telephony.timing`), for the metrics."""

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.time(), UTC)

    @staticmethod
    def _hinted(organization_hint: str | None) -> int | None:
        """The organization the request names, if it names one (only its secret is tried)."""
        if organization_hint is None:
            return None
        try:
            return parse_record_id(organization_hint)
        except ValueError:
            raise WebhookUnauthorized("unknown organization") from None

    async def handle(
        self, kind: WebhookKind, body: bytes, signature: str | None, organization_hint: str | None = None
    ) -> WebhookResult:
        """Verify, parse and apply one webhook. Raises the errors above and InvalidWebhook.

        All of it is one transaction (:meth:`Database.write`). The signature is checked
        against the secrets as last read, and the one that matched is confirmed in that
        transaction (by the statement that takes the ``seq``, else by a read of its own), so
        a rotated secret counts at once, in every process.
        """
        digest = hashlib.sha256(kind.encode() + b"\n" + body).hexdigest()
        times = self.times
        hinted = self._hinted(organization_hint)
        handed_over = 0.0

        def unit(connection: Connection) -> WebhookResult:
            began = time.perf_counter()
            times.add("begin", began - handed_over)
            store = SqlCallStore(connection)
            organization_id, secret, confirmed = self._verify(store, hinted, body, signature)
            parsing = time.perf_counter()  # nothing is parsed before the signature is checked
            try:
                report = parse_webhook(kind, body, self.now())
                parsed = time.perf_counter()
                result = self._apply(store, organization_id, report, digest, secret)
                if result.outbox:
                    self._tell_leader(connection)
                elif not confirmed:  # taking a seq confirms the secret; nothing else did
                    store.confirm_secret(organization_id, secret)
            except (InvalidWebhook, WebhookForbidden, UnknownDid):
                if not confirmed:  # a refusal is the signer's to hear only if the secret still is theirs
                    store.confirm_secret(organization_id, secret)
                raise
            times.add("signature", parsing - began)
            times.add("parsing", parsed - parsing)
            times.add("statements", time.perf_counter() - parsed)
            return result

        for attempt in range(1, _ATTEMPTS + 1):
            handed_over = time.perf_counter()
            try:
                result = await self._database.write(unit, committed=lambda seconds: times.add("commit", seconds))
            except SecretChanged as exc:
                self._secrets.pop(exc.organization_id, None)
                if attempt == _ATTEMPTS:
                    raise WebhookUnauthorized("the webhook secret keeps changing") from None
                continue  # verified against a secret rotated since it was read: read it again
            except DBAPIError as exc:
                # Two webhooks for one new call raced to create it, the database asked us to
                # retry, or a pooled connection turned out dead: run the whole unit again.
                retriable = isinstance(exc, IntegrityError | OperationalError) or exc.connection_invalidated
                if not retriable or attempt == _ATTEMPTS:
                    raise
                log.info("retrying webhook after %s", type(exc).__name__)
                continue
            if result.outbox:
                self._on_commit(list(result.outbox))
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "webhook %s for call %s: %s (%s)%s",
                    kind,
                    result.call_id,
                    result.outcome,
                    result.status,
                    f": {result.reason}" if result.reason else "",
                )
            return result
        raise AssertionError("unreachable")

    def _verify(
        self, store: CallStore, hinted: int | None, body: bytes, signature: str | None
    ) -> tuple[int, str, bool]:
        """The organization whose secret signed ``body``, that secret, and whether this transaction read it.

        The secrets as last read are tried first; only when none matches are they read again
        (a new organization, a rotated secret). One tried from memory is confirmed later in
        the same transaction, so a rotation elsewhere still counts at once.
        """
        known = self._secrets
        if hinted is None:
            remembered = list(known.items())
        elif hinted in known:
            remembered = [(hinted, known[hinted])]
        else:
            remembered = []
        for organization_id, secret in remembered:
            if verify_signature(secret, body, signature):
                return organization_id, secret, False
        read = store.secrets(hinted)
        if hinted is None:
            known.clear()  # organizations deleted since are forgotten too
        known.update(read)
        for organization_id, secret in read:
            if verify_signature(secret, body, signature):
                return organization_id, secret, True
        raise WebhookUnauthorized("missing or invalid X-Cloudonix-Signature")

    def _apply(
        self, store: CallStore, organization_id: int, report: ProviderReport, digest: str, secret: str
    ) -> WebhookResult:
        call, received = store.call_for_update(report.call_id, digest)
        # Whose call it is comes first: another organization learns nothing, not even "duplicate".
        if call is not None and call.organization_id != organization_id:
            raise WebhookForbidden(f"call {report.call_id} belongs to another organization")
        # A body already received is a duplicate; its record refers to its call, so only a call
        # that exists can have one (the digest covers the body, and so the call id).
        if call is not None and received:
            return WebhookResult(Outcome.DUPLICATE, report.call_id, call.status)
        now = self.now()
        change = _Change(call, replace(call) if call is not None else None, report, digest, now)
        if call is None:
            call = change.call = self._create(store, organization_id, report, now)
            change.events.append(self._initiated(call))
        current = CallState(call.status)
        if current in TERMINAL:
            if report.state is not current:  # a contradiction changes nothing the final state recorded
                reason = f"{current} is final; a report of {report.state} changes nothing"
                return self._result(store, change, secret, Outcome.IGNORED, reason)
            filled = _fill_in(call, report)
            call.updated_at = now
            reason = f"{current} is final" + (f"; filled in {', '.join(filled)}" if filled else "")
            return self._result(store, change, secret, Outcome.IGNORED, reason)
        if is_stale(current, report.state):
            if change.before is None:
                return self._result(store, change, secret, Outcome.APPLIED, None)
            return self._result(store, change, secret, Outcome.IGNORED, f"{report.state} is behind {current}")
        try:
            path = path_to(current, report.state)
        except IllegalTransition as exc:
            log.warning("ignoring contradictory report for call %s: %s", call.call_id, exc)
            return self._result(store, change, secret, Outcome.IGNORED, str(exc))
        for state in path:
            change.events.append(self._enter(store, call, state, report, now))
        return self._result(store, change, secret, Outcome.APPLIED, None)

    def _result(
        self, store: CallStore, change: _Change, secret: str, outcome: Outcome, reason: str | None
    ) -> WebhookResult:
        """Write what the report changed: the call, its provider record, the events in the outbox."""
        call, events, now = change.call, change.events, change.now
        assert call is not None
        first_seq = store.next_seq(call.organization_id, len(events), secret) - len(events) + 1 if events else 0
        rows: list[dict[str, Any]] = []
        for seq, event in enumerate(events, start=first_seq):
            channels = [organization_channel(call.organization_id)]
            if not isinstance(event, CallInitiated) and call.extension_id is not None:
                channels.append(extension_channel(call.extension_id))
            rows.append(
                {
                    "event_id": event.event_id,
                    "organization_id": call.organization_id,
                    "call_id": call.call_id,
                    "seq": seq,
                    "name": event.name,
                    "channels": channels,
                    "payload": {**event.payload(), "seq": seq},
                    "created_at": now,
                    "attempts": 0,
                    "next_attempt_at": now,
                }
            )
        record = {
            "kind": change.report.kind,
            "digest": change.digest,
            "body": change.report.raw or {},
            "received_at": now,
        }
        write_call: Literal["insert", "update", "none"] = (
            "insert" if change.before is None else "update" if call != change.before else "none"
        )
        ids = store.save(CallChange(call=call, write_call=write_call, record=record, outbox=rows))
        outbox = tuple(Pending(id=row_id, **row) for row_id, row in zip(ids, rows, strict=True))
        names = tuple(event.name for event in events)
        return WebhookResult(outcome, call.call_id, call.status, names, reason, outbox)

    @staticmethod
    def _create(store: CallStore, organization_id: int, report: ProviderReport, now: datetime) -> Call:
        """The new call (not yet inserted: :meth:`_result` writes it in its final state)."""
        number = report.did or report.to_number
        did = store.did_by_number(number) if number else None
        if did is None:
            raise UnknownDid(f"no organization owns the number {number!r}")
        if did.organization_id != organization_id:
            raise WebhookForbidden(f"the number {number} belongs to another organization")
        initiated_at = report.occurred_at if report.kind is WebhookKind.CALL_INITIATED else _earliest(report, now)
        return Call(
            call_id=report.call_id,
            organization_id=organization_id,
            direction=report.direction or "inbound",
            from_number=report.from_number or "unknown",
            to_number=report.to_number or did.phone_number,
            did_id=did.id,
            extension_id=did.extension_id,
            status=CallState.INITIATED,
            initiated_at=initiated_at,
            updated_at=now,
        )

    def _enter(
        self, store: CallStore, call: Call, state: CallState, report: ProviderReport, now: datetime
    ) -> CallEvent:
        call.status = state
        call.updated_at = now
        if state is CallState.RINGING:
            call.ringing_at = max(report.occurred_at, call.initiated_at)
            return CallRinging(
                event_id=str(uuid.uuid4()),
                call_id=call.call_id,
                ringing_at=call.ringing_at,
                extension_id=call.extension_id,
            )
        if state is CallState.ANSWERED:
            call.answered_at = _answered_at(report)
            answering = store.extension_by_number(call.organization_id, report.extension) if report.extension else None
            if answering is not None:
                call.extension_id = answering.id
            elif call.extension_id is not None:
                answering = store.extension(call.extension_id)
            return CallAnswered(
                event_id=str(uuid.uuid4()),
                call_id=call.call_id,
                answered_at=call.answered_at,
                extension_id=call.extension_id,
                answered_by=_answered_by(answering),
            )
        call.ended_at = max(report.ended_at or report.occurred_at, call.answered_at or call.initiated_at)
        call.duration = _talk_seconds(call, report)
        call.recording_url = report.recording_url or call.recording_url
        return CallEnded(
            event_id=str(uuid.uuid4()),
            call_id=call.call_id,
            status=state,
            ended_at=call.ended_at,
            duration=call.duration,
            recording_url=call.recording_url,
        )

    @staticmethod
    def _initiated(call: Call) -> CallInitiated:
        return CallInitiated(
            event_id=str(uuid.uuid4()),
            call_id=call.call_id,
            from_number=call.from_number,
            to_number=call.to_number,
            did_id=call.did_id,
            initiated_at=call.initiated_at,
        )


def _answered_by(extension: ExtensionRow | None) -> AnsweredBy | None:
    if extension is None or extension.user_id is None or extension.user_name is None:
        return None
    return AnsweredBy(id=extension.user_id, name=extension.user_name, extension_number=extension.number)


def _earliest(report: ProviderReport, now: datetime) -> datetime:
    """When a call first seen through a later report began, as well as can be told."""
    start = report.raw.get("startTime") if report.raw else None
    if isinstance(start, int | float) and not isinstance(start, bool):
        return datetime.fromtimestamp(start / 1000 if start > 10**11 else start, UTC)
    known = [moment for moment in (report.answered_at, report.ended_at, report.occurred_at) if moment]
    return min(known, default=now)


def _answered_at(report: ProviderReport) -> datetime:
    if report.answered_at is not None:
        return report.answered_at
    if report.ended_at is not None and report.talk_seconds is not None:
        return report.ended_at - timedelta(seconds=report.talk_seconds)
    return report.occurred_at


def _talk_seconds(call: Call, report: ProviderReport) -> int:
    if report.talk_seconds is not None:
        return report.talk_seconds
    if call.answered_at is None or call.ended_at is None:
        return 0
    return max(0, round((call.ended_at - call.answered_at).total_seconds()))


def _fill_in(call: Call, report: ProviderReport) -> list[str]:
    """What a late report agreeing with a finished call may add: its recording, its billed seconds."""
    filled = []
    if report.recording_url and not call.recording_url:
        call.recording_url = report.recording_url
        filled.append("recording_url")
    if report.talk_seconds is not None and report.talk_seconds != call.duration and call.answered_at is not None:
        call.duration = report.talk_seconds
        filled.append("duration")
    return filled

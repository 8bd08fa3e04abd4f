"""From a provider webhook to a committed call state and its broadcasts.

``ingest → state machine → store → outbox``: the webhook is verified, parsed into a
:class:`~opbx.telephony.ingest.ProviderReport`, applied to the call along the transition
table, and every resulting event is written to the outbox in the same transaction as
the state it announces. The relay (:mod:`opbx.broadcasting.relay`) sends them later, in
order, and retries; so no event is lost when the realtime server is down or slow.

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
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from opbx.clock import Clock, SystemClock
from opbx.db.engine import Database
from opbx.db.models import CallLog, Extension, Organization, OutboxEvent
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
from opbx.telephony.ingest import ProviderReport, WebhookKind, parse_webhook, verify_signature
from opbx.telephony.states import TERMINAL, CallState, IllegalTransition, is_stale, path_to
from opbx.telephony.store import CallStore, SqlCallStore

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


@dataclass(frozen=True, slots=True)
class WebhookResult:
    outcome: Outcome
    call_id: str
    status: str
    events: tuple[str, ...] = ()
    reason: str | None = None


class CallService:
    """Applies provider webhooks to the call log."""

    def __init__(
        self, database: Database, *, clock: Clock | None = None, on_commit: Callable[[], None] | None = None
    ) -> None:
        self._database = database
        self._clock = clock or SystemClock()
        self._on_commit = on_commit or (lambda: None)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.time(), UTC)

    async def verify(self, body: bytes, signature: str | None, organization_hint: str | None) -> Organization:
        """The organization whose secret signed ``body``; nothing is parsed before this."""
        async with self._database.reader() as session:
            query = select(Organization)
            if organization_hint is not None:
                try:
                    query = query.where(Organization.id == parse_record_id(organization_hint))
                except ValueError:
                    raise WebhookUnauthorized("unknown organization") from None
            organizations = (await session.execute(query)).scalars().all()
        for organization in organizations:
            if verify_signature(organization.webhook_secret, body, signature):
                return organization
        raise WebhookUnauthorized("missing or invalid X-Cloudonix-Signature")

    async def handle(
        self, kind: WebhookKind, body: bytes, signature: str | None, organization_hint: str | None = None
    ) -> WebhookResult:
        """Verify, parse and apply one webhook. Raises the errors above and InvalidWebhook."""
        organization = await self.verify(body, signature, organization_hint)
        report = parse_webhook(kind, body, self.now())
        digest = hashlib.sha256(kind.encode() + b"\n" + body).hexdigest()
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                async with self._database.session() as session, session.begin():
                    result = await self._apply(SqlCallStore(session), organization, report, digest)
            except (IntegrityError, OperationalError) as exc:
                # Two webhooks for one new call raced to create it, or the database
                # asked us to retry: run the whole unit of work again.
                if attempt == _ATTEMPTS:
                    raise
                log.info("retrying webhook for call %s after %s", report.call_id, type(exc).__name__)
                continue
            if result.events:
                self._on_commit()
            log.info(
                "webhook %s for call %s: %s (%s)%s",
                kind,
                report.call_id,
                result.outcome,
                result.status,
                f": {result.reason}" if result.reason else "",
            )
            return result
        raise AssertionError("unreachable")

    async def _apply(
        self, store: CallStore, organization: Organization, report: ProviderReport, digest: str
    ) -> WebhookResult:
        call = await store.call_for_update(report.call_id)
        # Whose call it is comes first: another organization learns nothing, not even "duplicate".
        if call is not None and call.organization_id != organization.id:
            raise WebhookForbidden(f"call {report.call_id} belongs to another organization")
        if await store.already_received(digest):
            return WebhookResult(Outcome.DUPLICATE, report.call_id, call.status if call else "unknown")
        now = self.now()
        events: list[CallEvent] = []
        created = call is None
        if call is None:
            call = await self._create(store, organization, report, now)
            events.append(self._initiated(call))
        store.add_record(call, report.kind, digest, report.raw or {}, now)
        current = CallState(call.status)
        if current in TERMINAL:
            if report.state is not current:  # a contradiction changes nothing the final state recorded
                reason = f"{current} is final; a report of {report.state} changes nothing"
                return await self._result(store, call, Outcome.IGNORED, events, reason)
            filled = _fill_in(call, report)
            call.updated_at = now
            reason = f"{current} is final" + (f"; filled in {', '.join(filled)}" if filled else "")
            return await self._result(store, call, Outcome.IGNORED, events, reason)
        if is_stale(current, report.state):
            if created:
                return await self._result(store, call, Outcome.APPLIED, events, None)
            return await self._result(store, call, Outcome.IGNORED, events, f"{report.state} is behind {current}")
        try:
            path = path_to(current, report.state)
        except IllegalTransition as exc:
            log.warning("ignoring contradictory report for call %s: %s", call.call_id, exc)
            return await self._result(store, call, Outcome.IGNORED, events, str(exc))
        for state in path:
            events.append(await self._enter(store, call, state, report, now))
        return await self._result(store, call, Outcome.APPLIED, events, None)

    async def _result(
        self, store: CallStore, call: CallLog, outcome: Outcome, events: Sequence[CallEvent], reason: str | None
    ) -> WebhookResult:
        now = self.now()
        first_seq = await store.next_seq(call.organization_id, len(events)) - len(events) + 1 if events else 0
        for seq, event in enumerate(events, start=first_seq):
            channels = [organization_channel(call.organization_id)]
            if not isinstance(event, CallInitiated) and call.extension_id is not None:
                channels.append(extension_channel(call.extension_id))
            store.add_outbox(
                OutboxEvent(
                    event_id=event.event_id,
                    organization_id=call.organization_id,
                    call_id=call.call_id,
                    seq=seq,
                    name=event.name,
                    channels=channels,
                    payload={**event.payload(), "seq": seq},
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now,
                )
            )
        return WebhookResult(outcome, call.call_id, call.status, tuple(event.name for event in events), reason)

    async def _create(
        self, store: CallStore, organization: Organization, report: ProviderReport, now: datetime
    ) -> CallLog:
        number = report.did or report.to_number
        did = await store.did_by_number(number) if number else None
        if did is None:
            raise UnknownDid(f"no organization owns the number {number!r}")
        if did.organization_id != organization.id:
            raise WebhookForbidden(f"the number {number} belongs to another organization")
        initiated_at = report.occurred_at if report.kind is WebhookKind.CALL_INITIATED else _earliest(report, now)
        call = CallLog(
            call_id=report.call_id,
            organization_id=organization.id,
            direction=report.direction or "inbound",
            from_number=report.from_number or "unknown",
            to_number=report.to_number or did.phone_number,
            did_id=did.id,
            extension_id=did.extension_id,
            status=CallState.INITIATED,
            initiated_at=initiated_at,
            updated_at=now,
        )
        await store.add_call(call)
        return call

    async def _enter(
        self, store: CallStore, call: CallLog, state: CallState, report: ProviderReport, now: datetime
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
            if report.extension is not None:
                extension = await store.extension_by_number(call.organization_id, report.extension)
                if extension is not None:
                    call.extension_id = extension.id
            return CallAnswered(
                event_id=str(uuid.uuid4()),
                call_id=call.call_id,
                answered_at=call.answered_at,
                extension_id=call.extension_id,
                answered_by=await self._answered_by(store, call.extension_id),
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
    def _initiated(call: CallLog) -> CallInitiated:
        return CallInitiated(
            event_id=str(uuid.uuid4()),
            call_id=call.call_id,
            from_number=call.from_number,
            to_number=call.to_number,
            did_id=call.did_id,
            initiated_at=call.initiated_at,
        )

    @staticmethod
    async def _answered_by(store: CallStore, extension_id: int | None) -> AnsweredBy | None:
        extension: Extension | None = await store.extension(extension_id) if extension_id is not None else None
        if extension is None or extension.user_id is None:
            return None
        user = await store.user(extension.user_id)
        return AnsweredBy(id=user.id, name=user.name, extension_number=extension.number) if user else None


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


def _talk_seconds(call: CallLog, report: ProviderReport) -> int:
    if report.talk_seconds is not None:
        return report.talk_seconds
    if call.answered_at is None or call.ended_at is None:
        return 0
    return max(0, round((call.ended_at - call.answered_at).total_seconds()))


def _fill_in(call: CallLog, report: ProviderReport) -> list[str]:
    """What a late report agreeing with a finished call may add: its recording, its billed seconds."""
    filled = []
    if report.recording_url and not call.recording_url:
        call.recording_url = report.recording_url
        filled.append("recording_url")
    if report.talk_seconds is not None and report.talk_seconds != call.duration and call.answered_at is not None:
        call.duration = report.talk_seconds
        filled.append("duration")
    return filled

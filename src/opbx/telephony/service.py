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

import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

import asyncpg
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from opbx.broadcasting.relay import Pending
from opbx.clock import Clock, SystemClock
from opbx.db.engine import Database
from opbx.db.postgresql import DRIVER_ERRORS
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
from opbx.telephony.pg_store import PgCallStore
from opbx.telephony.states import TERMINAL, CallState, IllegalTransition, is_stale, path_to
from opbx.telephony.store import (
    Call,
    CallChange,
    Conflict,
    DidRow,
    EventRow,
    ExtensionRow,
    Lookup,
    SecretChanged,
    Snapshot,
    SqlCallStore,
    outbox_rows,
    read_secrets,
)
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


_RETRIABLE_ON_POSTGRESQL: tuple[type[BaseException], ...] = (
    asyncpg.UniqueViolationError,
    asyncpg.exceptions.TransactionRollbackError,
    *DRIVER_ERRORS,
)


@dataclass(slots=True)
class _Change:
    """What one report does to one call, gathered before it is written."""

    call: Call | None
    before: Call | None
    """The call as it was read; None for a call this report creates."""
    version: int
    """Of the call row as read (:attr:`Snapshot.version`)."""
    report: ProviderReport
    digest: str
    secret: str
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


@dataclass(frozen=True, slots=True)
class _Decision:
    """The answer to one webhook, and what it writes (None: nothing, a duplicate)."""

    outcome: Outcome
    call: Call
    change: CallChange | None
    reason: str | None = None

    def result(self, written: list[tuple[int, int]]) -> WebhookResult:
        """The answer, once ``written``: each outbox row's ``(id, seq)``."""
        call, change = self.call, self.change
        if change is None:
            return WebhookResult(self.outcome, call.call_id, call.status, (), self.reason)
        rows = outbox_rows(change, written[0][1]) if written else []
        outbox = tuple(Pending(id=row_id, **row) for (row_id, _), row in zip(written, rows, strict=True))
        names = tuple(event.name for event in change.events)
        return WebhookResult(self.outcome, call.call_id, call.status, names, self.reason, outbox)


class CallService:
    """Applies provider webhooks to the call log."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock | None = None,
        on_commit: Callable[[list[Pending]], None] | None = None,
        leads: Callable[[], bool] | None = None,
    ) -> None:
        """``on_commit`` is handed the outbox rows of each webhook that wrote some, once committed;
        ``leads`` says whether this process's relay sends: when it does not, each webhook that
        wrote outbox rows notifies the one that does (:mod:`opbx.broadcasting.leadership`)."""
        self._database = database
        self._clock = clock or SystemClock()
        self._on_commit = on_commit or (lambda events: None)
        self._leads = leads or (lambda: True)
        self._secrets: dict[int, str] = {}
        """Webhook secrets by organization, as last read: tried first, confirmed by each webhook's read."""
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

        The signature is checked against the secrets as last read (read again when none
        matches), then the body is parsed, then the webhook reads what it needs and writes
        what it changed, all or nothing (:mod:`opbx.telephony.store`). The read also reads
        the secret that matched, so a secret rotated in another process counts at once.
        """
        digest = hashlib.sha256(kind.encode() + b"\n" + body).hexdigest()
        hinted = self._hinted(organization_hint)
        locked = False
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return await self._attempt(kind, body, signature, hinted, digest, locked=locked)
            except SecretChanged as exc:
                self._secrets.pop(exc.organization_id, None)
                if attempt == _ATTEMPTS:
                    raise WebhookUnauthorized("the webhook secret keeps changing") from None
            except Conflict:
                if attempt == _ATTEMPTS:  # answered 500: the provider sends it again later
                    raise
                locked = True  # the call changed under this webhook: next time, lock it first
            except DBAPIError as exc:
                # SQLite: two webhooks for one new call raced to create it, or the database
                # asked us to retry: run the whole unit again.
                retriable = isinstance(exc, IntegrityError | OperationalError) or exc.connection_invalidated
                if not retriable or attempt == _ATTEMPTS:
                    raise
            except _RETRIABLE_ON_POSTGRESQL:
                # A race to create one call or record one body (a unique index said no), a
                # deadlock, or a pooled connection the server had closed: run it again.
                if attempt == _ATTEMPTS:
                    raise
            log.info("retrying webhook %s (attempt %d)", kind, attempt + 1)
        raise AssertionError("unreachable")

    async def _attempt(
        self, kind: WebhookKind, body: bytes, signature: str | None, hinted: int | None, digest: str, *, locked: bool
    ) -> WebhookResult:
        times = self.times
        began = time.perf_counter()
        organization_id, secret, confirmed = await self._verify(hinted, body, signature)
        verified = time.perf_counter()
        times.add("signature", verified - began)
        try:
            report = parse_webhook(kind, body, self.now())
        except InvalidWebhook:
            if not confirmed:  # a refusal is the signer's to hear only if the secret still is theirs
                await self._confirm(organization_id, secret)
            raise
        parsed = time.perf_counter()
        times.add("parsing", parsed - verified)
        lookup = Lookup(
            organization_id=organization_id,
            call_id=report.call_id,
            digest=digest,
            number=report.did or report.to_number,
            extension=report.extension,
        )
        if self._database.driver is not None:
            result = await self._on_postgresql(lookup, report, secret, parsed, locked=locked)
        else:
            result = await self._on_sqlite(lookup, report, secret, parsed)
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

    async def _on_sqlite(
        self, lookup: Lookup, report: ProviderReport, secret: str, handed_over: float
    ) -> WebhookResult:
        """The read and the write in the writer's transaction (:meth:`Database.write`)."""
        times = self.times

        def unit(connection: Connection) -> WebhookResult:
            began = time.perf_counter()
            times.add("begin", began - handed_over)
            store = SqlCallStore(connection)
            decided = self._decide(store.read(lookup), lookup, report, secret)
            outbox = store.save(decided.change) if decided.change is not None else []
            times.add("statements", time.perf_counter() - began)
            return decided.result(outbox)

        return await self._database.write(unit, committed=lambda seconds: times.add("commit", seconds))

    async def _on_postgresql(
        self, lookup: Lookup, report: ProviderReport, secret: str, handed_over: float, *, locked: bool
    ) -> WebhookResult:
        """The read, then the write that commits by itself (:mod:`opbx.telephony.pg_store`).

        ``locked``: in a transaction that locks the call first, after a :class:`Conflict`.
        """
        times, driver = self.times, self._database.driver
        assert driver is not None
        async with driver.connection() as connection:
            began = time.perf_counter()
            times.add("begin", began - handed_over)
            store = PgCallStore(connection)
            async with connection.transaction() if locked else contextlib.nullcontext():
                if locked:
                    await store.lock(lookup.call_id)
                decided = self._decide(await store.read(lookup), lookup, report, secret)
                outbox = await store.save(decided.change, notify=not self._leads()) if decided.change else []
            times.add("statements", time.perf_counter() - began)
        return decided.result(outbox)

    async def _verify(self, hinted: int | None, body: bytes, signature: str | None) -> tuple[int, str, bool]:
        """The organization whose secret signed ``body``, that secret, and whether it was just read.

        The secrets as last read are tried first; only when none matches are they read again
        (a new organization, a rotated secret). One tried from memory is confirmed later, by
        the webhook's read.
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
        read = await self._database.read(lambda connection: read_secrets(connection, hinted))
        if hinted is None:
            known.clear()  # organizations deleted since are forgotten too
        known.update(read)
        for organization_id, secret in read:
            if verify_signature(secret, body, signature):
                return organization_id, secret, True
        raise WebhookUnauthorized("missing or invalid X-Cloudonix-Signature")

    async def _confirm(self, organization_id: int, secret: str) -> None:
        """Raise :class:`SecretChanged` unless ``secret`` is still the organization's."""
        read = await self._database.read(lambda connection: read_secrets(connection, organization_id))
        if read != [(organization_id, secret)]:
            raise SecretChanged(organization_id)

    def _decide(self, snapshot: Snapshot, lookup: Lookup, report: ProviderReport, secret: str) -> _Decision:
        """What the report does to the call as read: the answer, and what to write (if anything)."""
        organization_id = lookup.organization_id
        if snapshot.secret != secret:
            raise SecretChanged(organization_id)
        call = snapshot.call
        # Whose call it is comes first: another organization learns nothing, not even "duplicate".
        if call is not None and call.organization_id != organization_id:
            raise WebhookForbidden(f"call {report.call_id} belongs to another organization")
        # A body already received is a duplicate; its record refers to its call, so only a call
        # that exists can have one (the digest covers the body, and so the call id).
        if call is not None and snapshot.received:
            return _Decision(Outcome.DUPLICATE, call, None)
        now = self.now()
        change = _Change(
            call, replace(call) if call is not None else None, snapshot.version, report, lookup.digest, secret, now
        )
        if call is None:
            call = change.call = self._create(snapshot.did, organization_id, report, now)
            change.events.append(self._initiated(call))
        current = CallState(call.status)
        if current in TERMINAL:
            if report.state is not current:  # a contradiction changes nothing the final state recorded
                reason = f"{current} is final; a report of {report.state} changes nothing"
                return self._write(change, Outcome.IGNORED, reason)
            filled = _fill_in(call, report)
            call.updated_at = now
            reason = f"{current} is final" + (f"; filled in {', '.join(filled)}" if filled else "")
            return self._write(change, Outcome.IGNORED, reason)
        if is_stale(current, report.state):
            if change.before is None:
                return self._write(change, Outcome.APPLIED, None)
            return self._write(change, Outcome.IGNORED, f"{report.state} is behind {current}")
        try:
            path = path_to(current, report.state)
        except IllegalTransition as exc:
            log.warning("ignoring contradictory report for call %s: %s", call.call_id, exc)
            return self._write(change, Outcome.IGNORED, str(exc))
        for state in path:
            change.events.append(self._enter(snapshot, call, state, report, now))
        return self._write(change, Outcome.APPLIED, None)

    @staticmethod
    def _write(change: _Change, outcome: Outcome, reason: str | None) -> _Decision:
        """What the report changed, to be written: the call, its provider record, its events."""
        call, before = change.call, change.before
        assert call is not None
        events = [
            EventRow(
                event_id=event.event_id,
                name=event.name,
                channels=[organization_channel(call.organization_id)]
                + ([extension_channel(call.extension_id)]
                   if not isinstance(event, CallInitiated) and call.extension_id is not None else []),
                payload=event.payload(),
            )
            for event in change.events
        ]  # fmt: skip
        record = {
            "kind": change.report.kind,
            "digest": change.digest,
            "body": change.report.raw or {},
            "received_at": change.now,
        }
        write_call: Literal["insert", "update", "none"] = (
            "insert" if before is None else "update" if call != before else "none"
        )
        written = CallChange(
            call=call,
            write_call=write_call,
            version=change.version,
            secret=change.secret,
            record=record,
            events=events,
            now=change.now,
        )
        return _Decision(outcome, call, written, reason)

    @staticmethod
    def _create(did: DidRow | None, organization_id: int, report: ProviderReport, now: datetime) -> Call:
        """The new call (not yet inserted: :meth:`_write` has it written in its final state)."""
        number = report.did or report.to_number
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
        self, snapshot: Snapshot, call: Call, state: CallState, report: ProviderReport, now: datetime
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
            answering = snapshot.answering  # the extension the report names, if it names one
            if answering is not None:
                call.extension_id = answering.id
            else:
                answering = snapshot.extension
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

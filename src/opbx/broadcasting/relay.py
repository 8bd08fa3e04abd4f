"""The outbox relay: sends committed call events, in order per organization, until they land.

The service writes each event to ``outbox_events`` in the same transaction as the state
it announces. The relay reads pending events in id order and hands them to the
:class:`~opbx.broadcasting.base.Broadcaster`. When one fails, that organization's later
events wait behind it (order is kept per organization; other organizations go on) and it
is retried with exponential backoff, for as long as it takes. Sending is at-least-once:
each payload carries its ``event_id`` so clients drop a duplicate.

Each broadcast is logged as one JSON line (event, channel, organization, call_id). When an
organization's delivery stalls the relay says so once, and once more when it recovers, with
the lag. On PostgreSQL, several API processes may run a relay: one sends, the others stand
by and tell it of their commits (:mod:`opbx.broadcasting.leadership`).

The relay learns of an event the moment its webhook commits: the service hands it the
committed rows (:meth:`OutboxRelay.committed`). An organization's ``seq`` numbers have no
gaps, so when a handed event's ``seq`` is the one after the last the relay sent for that
organization, nothing of that organization can be waiting before it, and it is sent
without reading the outbox back. Any other case (a gap, an organization the relay has not
seen since it started, one whose delivery is failing) is settled by reading the outbox, as
is every round at least once every :data:`READ_EVERY` seconds, which finds what other
processes committed.

Every :data:`SYNC_INTERVAL` seconds the relay also publishes ``sync`` on each organization's
presence channel: ``{seq, interval, server_time}``, ``seq`` being the organization's latest
committed event. A page that has applied less re-reads its snapshot; a page that hears no
``sync`` for two intervals knows it is behind (the dashboard then says **Delayed**).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from opbx.broadcasting.base import BATCH_LIMIT, Broadcast, Broadcaster, BroadcastFailed
from opbx.broadcasting.leadership import Leadership
from opbx.clock import Clock, SystemClock
from opbx.db.engine import Database
from opbx.db.models import Base, Organization, OutboxEvent
from opbx.telephony.events import iso8601, organization_channel

__all__ = ["READ_EVERY", "SYNC_EVENT", "SYNC_INTERVAL", "Backlog", "OutboxRelay", "Pending", "backoff"]

log = logging.getLogger("opbx.broadcast")

_IDLE_POLL = 1.0
READ_EVERY = 1.0
"""Seconds at most between two reads of the outbox, however many events are handed over."""
_BATCH = 200
_HANDED_LIMIT = 10_000
"""Handed events kept for the next round; beyond, they are dropped and the outbox read finds them."""
_BACKLOG_EVERY = 2.0
"""Seconds between two measures of the backlog the metrics show."""
SYNC_EVENT = "sync"
SYNC_INTERVAL = 10.0
"""Seconds between two ``sync`` events on an organization's channel."""


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failures: 0.5 s doubling to 5 s.

    Short, because the driver fails over between URLs by itself and a node that comes back
    should get the waiting events within seconds, not half a minute.
    """
    return timedelta(seconds=min(5.0, 0.5 * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True, slots=True)
class Backlog:
    """Events committed and not yet sent."""

    depth: int
    oldest_age: float | None
    """Seconds since the oldest of them was committed; None when there is none."""
    stalled: tuple[int, ...] = ()
    """Organizations whose delivery is failing now."""


@dataclass(frozen=True, slots=True)
class Pending:
    """An outbox event not yet sent: what a round needs of its row."""

    id: int
    event_id: str
    organization_id: int
    seq: int
    call_id: str
    name: str
    channels: list[str]
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    next_attempt_at: datetime


_outbox = Base.metadata.tables[OutboxEvent.__tablename__]
_PENDING = (
    select(*(_outbox.c[field.name] for field in fields(Pending)))
    .where(_outbox.c.sent_at.is_(None))
    .order_by(_outbox.c.id)
    .limit(_BATCH)
)
_MARK_SENT = (
    update(_outbox)
    .where(_outbox.c.id.in_(bindparam("ids", expanding=True)))
    .values(sent_at=bindparam("now"), attempts=_outbox.c.attempts + 1)
)


_MARK_SENT_ON_POSTGRESQL = (
    "UPDATE outbox_events SET sent_at = $1::timestamptz, attempts = attempts + 1 WHERE id = ANY($2::integer[])"
)
""":data:`_MARK_SENT` straight on asyncpg, one of the webhook path's statements (:mod:`opbx.db.postgresql`)."""


def _read_pending(connection: Connection) -> list[Pending]:
    return [Pending(*row) for row in connection.execute(_PENDING)]


def _mark(connection: Connection, ids: list[int], now: datetime) -> None:
    connection.execute(_MARK_SENT, {"ids": ids, "now": now})


class OutboxRelay:
    def __init__(self, database: Database, broadcaster: Broadcaster, *, clock: Clock | None = None) -> None:
        self._database = database
        self._broadcaster = broadcaster
        self._clock = clock or SystemClock()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.leadership = Leadership(database, notified=self._notified)
        """Whether this process's relay sends (:mod:`opbx.broadcasting.leadership`)."""
        self._read_wanted = False
        """Another process committed events: read the outbox at the next round."""
        self._stalled: dict[int, datetime] = {}
        """Organizations whose delivery is failing, and since when."""
        self.backlog = Backlog(0, None)
        """The latest measure (:meth:`measure_backlog`), for the metrics."""
        self.sent_events = 0
        self.sending_seconds = 0.0
        """Wall-clock seconds of the rounds that sent events (read, send, mark sent), for the metrics."""
        self._backlog_at = float("-inf")
        self._synced_at = float("-inf")
        self._read_at = float("-inf")
        self._handed: list[Pending] = []
        self._next_seq: dict[int, int] = {}
        """Per organization, the ``seq`` of its next event, where every one before it is known sent."""
        self.outbox_reads = 0
        """Rounds that read the outbox (the others sent what was handed to them)."""

    def _notified(self) -> None:
        self._read_wanted = True
        self._wakeup.set()

    def committed(self, events: list[Pending]) -> None:
        """A webhook committed these outbox rows: send them now, without reading them back if in order.

        A process that does not lead keeps nothing and wakes nobody: the leader, told by
        ``NOTIFY``, reads them; this relay asks for the lead at its next poll.
        """
        if not self.leadership.leads:
            return
        if len(self._handed) + len(events) > _HANDED_LIMIT:
            self._handed.clear()  # safe: a later event's seq shows the gap, and the read finds them
        else:
            self._handed.extend(events)
        self._wakeup.set()

    def _in_order(self, handed: list[Pending]) -> list[Pending] | None:
        """The handed events to send without reading the outbox, or None when only a read can tell.

        An event whose ``seq`` is below the organization's next was already sent by a round
        that read it; one above it means another event comes first, unknown here.
        """
        if not handed or self._read_wanted or self._clock.monotonic() - self._read_at >= READ_EVERY:
            return None
        expected = dict(self._next_seq)
        due = []
        for event in sorted(handed, key=lambda event: event.id):
            following = expected.get(event.organization_id)
            if following is None or event.seq > following:
                return None
            if event.seq == following:
                due.append(event)
                expected[event.organization_id] = following + 1
        return due

    def _learn(self, pending: list[Pending], sent: list[Pending], waiting: set[int], *, complete: bool) -> None:
        """What a round tells of each organization's next ``seq``.

        ``complete``: ``pending`` is every event not yet sent (a read that was not cut short),
        so an organization with none left waiting is known up to its last event sent.
        """
        if complete:
            organizations = {event.organization_id for event in pending}
            for organization_id in organizations:
                self._next_seq.pop(organization_id, None)
        elif len(pending) >= _BATCH:
            self._next_seq.clear()
        for event in sent:
            self._next_seq[event.organization_id] = max(self._next_seq.get(event.organization_id, 0), event.seq + 1)
        for organization_id in waiting:
            self._next_seq.pop(organization_id, None)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.time(), UTC)

    async def send_due(self) -> int:
        """Send every pending event that is due; return how many were sent.

        Due events go out in batches of up to :data:`BATCH_LIMIT` channel-events (one request
        each with the ``pusher`` driver). A batch that fails is sent again one event at a
        time, so one organization's refused event never holds back another's.
        """
        started = time.perf_counter()
        now = self._now()
        handed, self._handed = self._handed, []
        in_order = self._in_order(handed)
        if in_order is None:
            self._read_at = self._clock.monotonic()
            self._read_wanted = False
            self.outbox_reads += 1
            pending = await self._database.read(_read_pending)
        else:
            pending = in_order
        waiting: set[int] = set()
        sent: list[Pending] = []
        batch: list[Pending] = []
        room = BATCH_LIMIT  # channel-events the batch may still take
        for event in pending:
            if event.organization_id in waiting:
                continue
            if event.next_attempt_at > now:
                waiting.add(event.organization_id)
                continue
            if batch and len(event.channels) > room:
                await self._send(batch, waiting, sent, now)
                batch, room = [], BATCH_LIMIT
                if event.organization_id in waiting:
                    continue
            batch.append(event)
            room -= len(event.channels)
        if batch:
            await self._send(batch, waiting, sent, now)
        self._learn(pending, sent, waiting, complete=in_order is None and len(pending) < _BATCH)
        await self._mark_sent(sent)
        if sent:
            self.sent_events += len(sent)
            self.sending_seconds += time.perf_counter() - started
        return len(sent)

    async def _send(self, batch: list[Pending], waiting: set[int], sent: list[Pending], now: datetime) -> None:
        if len(batch) > 1:
            try:
                await self._broadcaster.broadcast_batch(
                    [Broadcast(event.channels, event.name, event.payload) for event in batch]
                )
            except BroadcastFailed:
                pass  # any of them may be the one refused: find out one by one
            else:
                sent.extend(batch)
                for event in batch:
                    self._recovered(event, now)
                return
        for event in batch:
            if event.organization_id in waiting:
                continue
            try:
                await self._broadcaster.broadcast(event.channels, event.name, event.payload)
            except BroadcastFailed as exc:
                waiting.add(event.organization_id)
                await self._failed(event, str(exc), now)
                continue
            sent.append(event)
            self._recovered(event, now)

    def _recovered(self, event: Pending, now: datetime) -> None:
        since = self._stalled.pop(event.organization_id, None)
        if since is not None:
            log.info(
                orjson.dumps(
                    {
                        "message": "delivery recovered",
                        "organization": event.organization_id,
                        "stalled_s": round((now - since).total_seconds(), 1),
                        "lag_ms": round((now - event.created_at).total_seconds() * 1000, 1),
                    }
                ).decode()
            )

    async def send_sync(self) -> int:
        """Publish ``sync`` with its latest committed ``seq`` to every organization; return how many."""
        async with self._database.reader() as session:
            rows = (await session.execute(select(Organization.id, Organization.event_seq))).all()
        now = iso8601(self._now())
        sent = 0
        for organization_id, seq in rows:
            payload = {"seq": seq, "interval": SYNC_INTERVAL, "server_time": now}
            try:
                await self._broadcaster.broadcast([organization_channel(organization_id)], SYNC_EVENT, payload)
            except BroadcastFailed as exc:
                log.debug("sync for organization %d not sent: %s", organization_id, exc)
                continue
            sent += 1
        return sent

    async def measure_backlog(self) -> Backlog:
        """How many events wait, since when, and which organizations' delivery is failing."""
        async with self._database.reader() as session:
            depth, oldest = (
                await session.execute(
                    select(func.count(OutboxEvent.id), func.min(OutboxEvent.created_at)).where(
                        OutboxEvent.sent_at.is_(None)
                    )
                )
            ).one()
        age = max(0.0, (self._now() - oldest).total_seconds()) if oldest is not None else None
        self.backlog = Backlog(int(depth), age, tuple(sorted(self._stalled)))
        return self.backlog

    async def _mark_sent(self, events: list[Pending]) -> None:
        """Record a round's sent events in one transaction (one write lock, not one per event).

        A crash before this commits re-sends them: at-least-once, as clients expect.
        """
        if not events:
            return
        now = self._now()
        ids = [event.id for event in events]
        if self._database.driver is not None:
            await self._database.driver.execute(_MARK_SENT_ON_POSTGRESQL, now, ids)
        else:
            await self._database.write_alone(lambda connection: _mark(connection, ids, now))
        if log.isEnabledFor(logging.INFO):
            for event in events:
                self._log_sent(event, now)

    def _log_sent(self, event: Pending, now: datetime) -> None:
        for channel in event.channels:
            log.info(
                orjson.dumps(
                    {
                        "message": "broadcast",
                        "event": event.name,
                        "channel": channel,
                        "organization": event.organization_id,
                        "call_id": event.call_id,
                        "event_id": event.event_id,
                        "driver": self._broadcaster.name,
                        "lag_ms": round((now - event.created_at).total_seconds() * 1000, 1),
                    }
                ).decode()
            )

    async def _failed(self, event: Pending, error: str, now: datetime) -> None:
        if event.organization_id not in self._stalled:
            self._stalled[event.organization_id] = now
            log.warning(
                orjson.dumps(
                    {
                        "message": "delivery stalled",
                        "organization": event.organization_id,
                        "event_id": event.event_id,
                        "lag_ms": round((now - event.created_at).total_seconds() * 1000, 1),
                        "error": error[:200],
                    }
                ).decode()
            )
        attempts = event.attempts + 1
        async with self._database.session() as session, session.begin():
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == event.id)
                .values(attempts=attempts, next_attempt_at=now + backoff(attempts), last_error=error[:500])
            )
        log.warning(
            orjson.dumps(
                {
                    "message": "broadcast failed; will retry",
                    "event": event.name,
                    "organization": event.organization_id,
                    "call_id": event.call_id,
                    "event_id": event.event_id,
                    "attempts": attempts,
                    "retry_in_s": backoff(attempts).total_seconds(),
                    "error": error[:200],
                }
            ).decode()
        )

    async def pending(self) -> int:
        async with self._database.reader() as session:
            rows = await session.execute(select(OutboxEvent.id).where(OutboxEvent.sent_at.is_(None)))
            return len(rows.all())

    # -- running --------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.leadership.release()

    async def _periodic(self) -> None:
        """The sync events and the backlog measure, each at its own pace."""
        moment = self._clock.monotonic()
        if moment - self._synced_at >= SYNC_INTERVAL:
            self._synced_at = moment
            await self.send_sync()
        if moment - self._backlog_at >= _BACKLOG_EVERY:
            self._backlog_at = moment
            await self.measure_backlog()

    async def _leads(self) -> bool:
        leading = self.leadership.leads
        if not await self.leadership.hold():
            self._handed.clear()  # the leader, in another process, reads them
            return False
        if not leading:
            self._next_seq.clear()  # what the previous leader sent is not known here
            self._read_wanted = True
        return True

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()  # before the round: a wake during it starts another at once
            try:
                if await self._leads():
                    await self.send_due()
                    await self._periodic()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay round failed")
                self._next_seq.clear()  # which events went out is not known: read before sending more
                await self.leadership.release()
            # asyncio.timeout, not wait_for: 3.11's wait_for loses a cancel that meets a wake-up.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_IDLE_POLL):
                    await self._wakeup.wait()

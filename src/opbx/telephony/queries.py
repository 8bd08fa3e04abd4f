"""The call log's read side: what the REST API and the dashboard's polling fallback show.

Every query is scoped to one organization; nothing here can read another's calls.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from opbx.db.models import CallLog, Did, Extension, Organization, ProviderRecord, User
from opbx.telephony.board import ExtensionStatus, extension_status
from opbx.telephony.events import iso8601
from opbx.telephony.states import TERMINAL, CallState

__all__ = ["ACTIVE_STATES", "ANSWER_BUCKETS", "MISSED_STATES", "CallFilters", "CallQueries", "timeline"]

ACTIVE_STATES = (CallState.INITIATED, CallState.RINGING, CallState.ANSWERED)
MISSED_STATES = (CallState.NO_ANSWER, CallState.BUSY, CallState.FAILED)
"""Calls that ended without anyone answering (a failure after answer is not missed)."""
ANSWER_BUCKETS = (5, 10, 20, 30, 60, None)
"""Upper bounds (seconds, inclusive) of the time-to-answer distribution; None: longer than the last."""


@dataclass(frozen=True, slots=True)
class CallFilters:
    status: str | None = None
    direction: str | None = None
    since: date | None = None
    until: date | None = None
    number: str | None = None
    extension_id: int | None = None
    page: int = 1
    per_page: int = 25


def _iso(moment: datetime | None) -> str | None:
    return iso8601(moment) if moment is not None else None


def _call_json(call: CallLog, did: Did | None, extension: Extension | None, user: User | None) -> dict[str, Any]:
    return {
        "id": call.id,
        "call_id": call.call_id,
        "direction": call.direction,
        "from_number": call.from_number,
        "to_number": call.to_number,
        "did_id": call.did_id,
        "did": {"id": did.id, "phone_number": did.phone_number} if did else None,
        "extension_id": call.extension_id,
        "answered_by": (
            {"id": user.id, "name": user.name, "extension_number": extension.number}
            if user is not None and extension is not None and call.answered_at is not None
            else None
        ),
        "extension": {"id": extension.id, "number": extension.number} if extension else None,
        "status": call.status,
        "initiated_at": _iso(call.initiated_at),
        "ringing_at": _iso(call.ringing_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "duration": call.duration,
        "recording_url": call.recording_url,
    }


def timeline(call: CallLog) -> list[dict[str, str]]:
    """Each state the call entered, in order, with when: what its detail page draws."""
    steps: list[tuple[str, datetime | None]] = [
        (CallState.INITIATED, call.initiated_at),
        (CallState.RINGING, call.ringing_at),
        (CallState.ANSWERED, call.answered_at),
    ]
    if CallState(call.status) in TERMINAL:
        steps.append((call.status, call.ended_at))
    return [{"status": str(status), "at": iso8601(at)} for status, at in steps if at is not None]


def _with_details(query: Select[CallLog]) -> Select[CallLog, Did | None, Extension | None, User | None]:
    return (
        query.add_columns(Did, Extension, User)
        .outerjoin(Did, Did.id == CallLog.did_id)
        .outerjoin(Extension, Extension.id == CallLog.extension_id)
        .outerjoin(User, User.id == Extension.user_id)
    )


class CallQueries:
    def __init__(self, session: AsyncSession, organization_id: int) -> None:
        self._session = session
        self._organization_id = organization_id

    def _calls(self) -> Select[CallLog]:
        return select(CallLog).where(CallLog.organization_id == self._organization_id)

    async def seq(self) -> int:
        """The organization's latest committed event: read before a snapshot, the seq it reflects."""
        seq = await self._session.scalar(select(Organization.event_seq).where(Organization.id == self._organization_id))
        return int(seq or 0)

    async def active(self) -> list[dict[str, Any]]:
        query = _with_details(self._calls().where(CallLog.status.in_(ACTIVE_STATES)).order_by(CallLog.initiated_at))
        return [_call_json(*row) for row in (await self._session.execute(query)).all()]

    async def board(self, present: Collection[str] | None) -> list[ExtensionStatus]:
        """Every extension of the organization with its state, in numeric order (99 before 101)."""
        extensions = await self._session.execute(
            select(Extension, User)
            .outerjoin(User, User.id == Extension.user_id)
            .where(Extension.organization_id == self._organization_id)
            .order_by(func.length(Extension.number), Extension.number)
        )
        calls = (
            (
                await self._session.execute(
                    self._calls().where(CallLog.status.in_(ACTIVE_STATES), CallLog.extension_id.is_not(None))
                )
            )
            .scalars()
            .all()
        )
        by_extension: dict[int | None, list[CallLog]] = {}
        for call in calls:
            by_extension.setdefault(call.extension_id, []).append(call)
        return [
            extension_status(extension, user, by_extension.get(extension.id, []), present)
            for extension, user in extensions.all()
        ]

    async def page(self, filters: CallFilters) -> dict[str, Any]:
        query = self._calls()
        if filters.status:
            query = query.where(CallLog.status == filters.status)
        if filters.direction:
            query = query.where(CallLog.direction == filters.direction)
        if filters.since:
            query = query.where(CallLog.initiated_at >= datetime.combine(filters.since, time(), UTC))
        if filters.until:
            query = query.where(CallLog.initiated_at < datetime.combine(filters.until + timedelta(days=1), time(), UTC))
        if filters.number:
            pattern = f"%{filters.number}%"
            query = query.where(or_(CallLog.from_number.like(pattern), CallLog.to_number.like(pattern)))
        if filters.extension_id is not None:
            query = query.where(CallLog.extension_id == filters.extension_id)
        total = (await self._session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = await self._session.execute(
            _with_details(query.order_by(CallLog.initiated_at.desc(), CallLog.id.desc()))
            .limit(filters.per_page)
            .offset((filters.page - 1) * filters.per_page)
        )
        return {
            "data": [_call_json(*row) for row in rows.all()],
            "meta": {
                "page": filters.page,
                "per_page": filters.per_page,
                "total": total,
                "last_page": max(1, -(-total // filters.per_page)),
            },
        }

    async def detail(self, call_id: str) -> dict[str, Any] | None:
        row = (await self._session.execute(_with_details(self._calls().where(CallLog.call_id == call_id)))).first()
        if row is None:
            return None
        call = row[0]
        records = await self._session.execute(
            select(ProviderRecord).where(ProviderRecord.call_log_id == call.id).order_by(ProviderRecord.id)
        )
        detail = _call_json(*row)
        detail["timeline"] = timeline(call)
        detail["provider_records"] = [
            {"kind": record.kind, "received_at": iso8601(record.received_at), "body": record.body}
            for record in records.scalars()
        ]
        return detail

    async def statistics(self, now: datetime) -> dict[str, Any]:
        """Today (UTC) at a glance, as a supervisor's wallboard has it."""
        start = datetime.combine(now.date(), time(), UTC)
        today = (await self._session.execute(self._calls().where(CallLog.initiated_at >= start))).scalars().all()
        answered = [call for call in today if call.answered_at is not None]
        durations = [call.duration for call in answered if call.duration is not None and call.ended_at is not None]

        def waited(call: CallLog) -> float:
            until = call.answered_at or call.ended_at or now
            return max(0.0, (until - call.initiated_at).total_seconds())

        return {
            "date": now.date().isoformat(),
            "total": len(today),
            "active": sum(call.status in ACTIVE_STATES for call in today),
            "answered": len(answered),
            "missed": sum(_missed(call) for call in today),
            "average_duration": round(sum(durations) / len(durations)) if durations else 0,
            "longest_wait": round(max((waited(call) for call in today), default=0.0)),
            "per_hour": _per_hour(today),
            "time_to_answer": _time_to_answer(answered),
        }


def _missed(call: CallLog) -> bool:
    return call.status in MISSED_STATES and call.answered_at is None


def _per_hour(calls: Sequence[CallLog]) -> list[dict[str, int]]:
    """Today's calls by the UTC hour they began: all of them, those answered, those missed."""
    hours = [{"hour": hour, "total": 0, "answered": 0, "missed": 0} for hour in range(24)]
    for call in calls:
        counts = hours[call.initiated_at.astimezone(UTC).hour]
        counts["total"] += 1
        counts["answered"] += call.answered_at is not None
        counts["missed"] += _missed(call)
    return hours


def _time_to_answer(answered: Sequence[CallLog]) -> list[dict[str, int | None]]:
    """Answered calls by seconds from their start to their answer, in :data:`ANSWER_BUCKETS`."""
    counts = dict.fromkeys(ANSWER_BUCKETS, 0)
    for call in answered:
        assert call.answered_at is not None
        seconds = max(0.0, (call.answered_at - call.initiated_at).total_seconds())
        bound = next((le for le in ANSWER_BUCKETS if le is not None and seconds <= le), None)
        counts[bound] += 1
    return [{"le": le, "count": count} for le, count in counts.items()]

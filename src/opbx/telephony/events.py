"""The broadcast events of the call lifecycle: the seed's three with exactly its payload fields,
and ``call.ringing``, ours.

Contract: ``mission/realtime-websockets.md`` ("Event Schema"). Every payload also carries
``event_id`` (a UUID), so a client that receives an event twice (a retried relay, a
reconnect that re-reads) can drop the duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "AnsweredBy",
    "CallAnswered",
    "CallEnded",
    "CallEvent",
    "CallEventName",
    "CallInitiated",
    "CallRinging",
    "extension_channel",
    "iso8601",
    "organization_channel",
]


class CallEventName(StrEnum):
    INITIATED = "call.initiated"
    RINGING = "call.ringing"
    ANSWERED = "call.answered"
    ENDED = "call.ended"


def iso8601(moment: datetime) -> str:
    """UTC, ISO 8601, millisecond precision, ``Z`` suffix: ``2026-11-26T23:18:38.120Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def organization_channel(organization_id: int) -> str:
    """Every member of the organization listens here (``Echo.join('org.{id}')``)."""
    return f"presence-org.{organization_id}"


def extension_channel(extension_id: int) -> str:
    return f"private-extension.{extension_id}"


@dataclass(frozen=True, slots=True)
class AnsweredBy:
    id: int
    name: str
    extension_number: str


@dataclass(frozen=True, slots=True)
class CallInitiated:
    event_id: str
    call_id: str
    from_number: str
    to_number: str
    did_id: int | None
    initiated_at: datetime

    name = CallEventName.INITIATED

    def payload(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "call_id": self.call_id,
            "from_number": self.from_number,
            "to_number": self.to_number,
            "did_id": self.did_id,
            "status": "initiated",
            "initiated_at": iso8601(self.initiated_at),
        }


@dataclass(frozen=True, slots=True)
class CallRinging:
    """Ours, beside the seed's three: the call rings (at its extension, when it has one)."""

    event_id: str
    call_id: str
    ringing_at: datetime
    extension_id: int | None

    name = CallEventName.RINGING

    def payload(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "call_id": self.call_id,
            "status": "ringing",
            "ringing_at": iso8601(self.ringing_at),
            "extension_id": self.extension_id,
        }


@dataclass(frozen=True, slots=True)
class CallAnswered:
    event_id: str
    call_id: str
    answered_at: datetime
    extension_id: int | None
    answered_by: AnsweredBy | None

    name = CallEventName.ANSWERED

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "event_id": self.event_id,
            "call_id": self.call_id,
            "status": "answered",
            "answered_at": iso8601(self.answered_at),
            "extension_id": self.extension_id,
        }
        if self.answered_by is not None:
            payload["answered_by"] = {
                "id": self.answered_by.id,
                "name": self.answered_by.name,
                "extension_number": self.answered_by.extension_number,
            }
        return payload


@dataclass(frozen=True, slots=True)
class CallEnded:
    event_id: str
    call_id: str
    status: str
    """``completed``, ``failed``, ``busy`` or ``no_answer``."""
    ended_at: datetime
    duration: int
    """Seconds of conversation (0 for a call never answered)."""
    recording_url: str | None

    name = CallEventName.ENDED

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "event_id": self.event_id,
            "call_id": self.call_id,
            "status": self.status,
            "ended_at": iso8601(self.ended_at),
            "duration": self.duration,
        }
        if self.recording_url is not None:
            payload["recording_url"] = self.recording_url
        return payload


CallEvent = CallInitiated | CallRinging | CallAnswered | CallEnded

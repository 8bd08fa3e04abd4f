"""``opbx simulate``: a telephony provider's webhooks for live-looking calls.

Calls arrive at random (a Poisson process at ``calls_per_minute``) for one or several
organizations. Each lives the life a real one does, reported the way Cloudonix reports
it, every body signed with its organization's secret: ``call-initiated``, then
``call-status`` records (ringing; then answered and completed, or busy, no-answer,
failed), then a ``cdr`` with the billed seconds and, for most answered calls, a
recording. Ring times, the answer rate and talk times follow :class:`CallProfile`;
``speed`` compresses every wait (tests and load runs use it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from opbx.telephony.ingest import sign_body, webhook_path

__all__ = ["CallProfile", "SimulatedOrganization", "Simulator"]

log = logging.getLogger("opbx.simulator")


@dataclass(frozen=True, slots=True)
class SimulatedOrganization:
    id: int
    secret: str
    dids: tuple[str, ...]
    extensions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CallProfile:
    """How calls go. Rates are fractions of all calls; the rest are not answered."""

    answer_rate: float = 0.72
    busy_rate: float = 0.06
    failed_rate: float = 0.03
    ring_seconds: tuple[float, float] = (2.0, 14.0)
    talk_mean_seconds: float = 45.0
    talk_max_seconds: float = 240.0
    recording_rate: float = 0.8


@dataclass
class SimulatorStats:
    calls_started: int = 0
    calls_finished: int = 0
    webhooks: Counter[int] = field(default_factory=Counter)
    """Webhook answers by HTTP status (0 for a connection error)."""


class Simulator:
    def __init__(
        self,
        base_url: str,
        organizations: Sequence[SimulatedOrganization],
        *,
        calls_per_minute: float = 6.0,
        profile: CallProfile | None = None,
        speed: float = 1.0,
        seed: int | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not organizations:
            raise ValueError("the simulator needs at least one organization with a number")
        self._organizations = [org for org in organizations if org.dids]
        if not self._organizations:
            raise ValueError("no organization has a number (DID) to call")
        self._base_url = base_url.rstrip("/")
        self._rate = calls_per_minute
        self._profile = profile or CallProfile()
        self._speed = speed
        self._random = random.Random(seed)  # noqa: S311 - simulated calls, not secrets
        self._client = client or httpx.AsyncClient(timeout=10)
        self._owns_client = client is None
        self._calls: set[asyncio.Task[None]] = set()
        self.stats = SimulatorStats()

    async def close(self) -> None:
        for task in list(self._calls):
            task.cancel()
        for task in list(self._calls):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._owns_client:
            await self._client.aclose()

    async def run(self, duration: float | None = None) -> None:
        """Start calls until ``duration`` seconds have passed (forever when None)."""
        loop = asyncio.get_running_loop()
        deadline = None if duration is None else loop.time() + duration
        while deadline is None or loop.time() < deadline:
            await asyncio.sleep(self._random.expovariate(self._rate / 60.0) / self._speed)
            self.start_call()
        await self.wait_for_calls()

    def start_call(self) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self.call(self._random.choice(self._organizations)))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)
        return task

    async def wait_for_calls(self) -> None:
        while self._calls:
            await asyncio.gather(*list(self._calls), return_exceptions=True)

    async def _pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self._speed)

    async def _post(self, organization: SimulatedOrganization, kind: str, body: dict[str, Any]) -> None:
        raw = orjson.dumps(body)
        headers = {"Content-Type": "application/json", "X-Cloudonix-Signature": sign_body(organization.secret, raw)}
        url = f"{self._base_url}{webhook_path(kind)}?org={organization.id}"
        try:
            response = await self._client.post(url, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            self.stats.webhooks[0] += 1
            log.warning("webhook %s failed: %s", kind, exc)
            return
        self.stats.webhooks[response.status_code] += 1
        if response.status_code != 200:
            log.warning("webhook %s answered %d: %s", kind, response.status_code, response.text[:200])

    def _outcome(self) -> str:
        draw, profile = self._random.random(), self._profile
        if draw < profile.answer_rate:
            return "answered"
        if draw < profile.answer_rate + profile.busy_rate:
            return "busy"
        if draw < profile.answer_rate + profile.busy_rate + profile.failed_rate:
            return "failed"
        return "no-answer"

    async def call(self, organization: SimulatedOrganization) -> None:
        """One call's whole life, reported as the provider would."""
        self.stats.calls_started += 1
        rng, profile = self._random, self._profile
        call_id = str(uuid.uuid4())
        caller = f"+1{rng.randint(200, 989)}{rng.randint(200, 999)}{rng.randint(1000, 9999)}"
        did = rng.choice(organization.dids)
        start = _now_ms()
        session: dict[str, Any] = {
            "id": rng.randint(10**6, 10**7),
            "domain": f"org{organization.id}.opbx",
            "callIds": [call_id],
            "callerId": caller,
            "destination": did,
            "direction": "inbound",
            "createdAt": start,
            "startTime": start,
        }
        await self._post(
            organization,
            "call-initiated",
            {
                "call_id": call_id,
                "from": caller,
                "to": did,
                "did": did,
                "timestamp": _iso(start),
                "direction": "inbound",
                "status": "initiated",
            },
        )
        await self._pause(rng.uniform(0.3, 1.2))
        await self._post(organization, "call-status", {**session, "status": "ringing", "modifiedAt": _now_ms()})
        await self._pause(rng.uniform(*profile.ring_seconds))
        outcome = self._outcome()
        talk = 0
        record: dict[str, Any] = {"call_id": call_id, "from": caller, "to": did}
        if outcome == "answered":
            answered = _now_ms()
            extension = rng.choice(organization.extensions) if organization.extensions else None
            session.update(status="answered", answerTime=answered, modifiedAt=answered)
            if extension is not None:
                session["extension"] = extension
            await self._post(organization, "call-status", session)
            talk = max(1, round(min(profile.talk_max_seconds, rng.expovariate(1 / profile.talk_mean_seconds))))
            await self._pause(talk)
            ended = _now_ms()
            session.update(status="completed", endTime=ended, modifiedAt=ended)
            await self._post(organization, "call-status", session)
            record.update(disposition="ANSWERED", billsec=talk)
            if rng.random() < profile.recording_rate:
                record["recording_url"] = f"https://recordings.example/{organization.id}/{call_id}.mp3"
        else:
            ended = _now_ms()
            session.update(status=outcome, endTime=ended, modifiedAt=ended)
            await self._post(organization, "call-status", session)
            record.update(disposition=outcome.replace("-", " ").upper(), billsec=0)
        record.update(duration=round((ended - start) / 1000), session={**session})
        await self._post(organization, "cdr", record)
        self.stats.calls_finished += 1


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def _iso(milliseconds: int) -> str:
    return datetime.fromtimestamp(milliseconds / 1000, UTC).isoformat().replace("+00:00", "Z")

"""Where webhook requests wait to be sent: a queue with due times, claims, and dead letters.

Spec of what is sent: https://pusher.com/docs/channels/server_api/webhooks

A :class:`Delivery` is one request body for one target (an app's URL). The sender pushes
deliveries, *claims* those that are due for a target, sends them, and then marks each
done, due again later (a failed attempt) or dead (it kept failing). A claim hides a
delivery from other claimers; the Redis store gives it up again after a visibility
timeout, so the work of a node that died mid-request is taken over by another.

Two stores: :class:`MemoryDeliveryStore` here (one process; lost on restart) and
:class:`~opbx.realtime.webhook_store_redis.RedisDeliveryStore` (shared and durable).
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from opbx.protocol.app import AppId

__all__ = ["ClaimLost", "DeadLetter", "Delivery", "DeliveryStore", "MemoryDeliveryStore", "lane_key"]


def lane_key(app_id: str, url: str) -> str:
    """A stable, key-safe name for one target of one app (its queue)."""
    return hashlib.sha256(f"{app_id}\n{url}".encode()).hexdigest()[:24]


@dataclass(slots=True)
class Delivery:
    """One webhook request: its body for one target, and how its attempts went."""

    id: str
    app_id: AppId
    url: str
    body: bytes
    """``{"time_ms": ..., "events": [...]}``, fixed when the events were gathered."""
    events: int
    created: float
    """Unix time the body was made."""
    attempts: int = 0
    first_attempt: float | None = None
    """Unix time of the first attempt: retries go on for the retry window from here."""
    last_error: str | None = None

    @property
    def lane(self) -> str:
        return lane_key(self.app_id, self.url)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "app_id": self.app_id,
            "url": self.url,
            "body": self.body.decode(),
            "events": self.events,
            "created": self.created,
            "attempts": self.attempts,
            "first_attempt": self.first_attempt,
            "last_error": self.last_error,
        }

    def encode(self) -> bytes:
        return orjson.dumps(self.to_json())

    @classmethod
    def decode(cls, raw: bytes | str) -> Delivery:
        fields = orjson.loads(raw)
        return cls(
            id=fields["id"],
            app_id=AppId(fields["app_id"]),
            url=fields["url"],
            body=fields["body"].encode(),
            events=fields["events"],
            created=fields["created"],
            attempts=fields["attempts"],
            first_attempt=fields["first_attempt"],
            last_error=fields["last_error"],
        )


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A delivery given up on, kept with why."""

    delivery: Delivery
    reason: str
    at: float
    """Unix time it was given up on."""

    def encode(self) -> bytes:
        return orjson.dumps({"reason": self.reason, "at": self.at, "delivery": self.delivery.to_json()})

    @classmethod
    def decode(cls, raw: bytes | str) -> DeadLetter:
        fields = orjson.loads(raw)
        return cls(Delivery.decode(orjson.dumps(fields["delivery"])), fields["reason"], fields["at"])


class ClaimLost(Exception):
    """A claim ran out before it was finished: another claimer may have the delivery now."""


class DeliveryStore(Protocol):
    """The queue of webhook deliveries, by target (``lane``), ordered by due time."""

    @property
    def durable(self) -> bool:
        """Whether pending deliveries outlive this process (else they die with it)."""

    async def push(self, deliveries: Sequence[Delivery], due: float) -> None:
        """Queue new deliveries, due at ``due`` (Unix time)."""

    async def claim(self, lane: str, now: float, limit: int) -> list[Delivery]:
        """Take up to ``limit`` of ``lane``'s deliveries due by ``now``, oldest due first, for this claimer only."""

    async def retry(self, delivery: Delivery, due: float) -> None:
        """Give a claimed delivery back, due again at ``due``, with its attempts recorded.

        This and :meth:`done` and :meth:`bury` raise :class:`ClaimLost` when the claim ran out.
        """

    async def done(self, delivery: Delivery) -> None:
        """Forget a claimed delivery: it was delivered."""

    async def bury(self, delivery: Delivery, dead: DeadLetter) -> None:
        """Move a claimed delivery to the dead letters."""

    async def pending(self, lane: str) -> int:
        """Deliveries of ``lane`` not yet done or dead, claimed ones included."""

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """The most recent dead letters, newest first."""

    async def close(self) -> None: ...


class MemoryDeliveryStore:
    """Deliveries in this process's memory: for one node (the local adapter); lost on restart.

    It keeps the last ``dead_letter_limit`` dead letters (each was also logged in full).
    """

    durable = False

    def __init__(self, dead_letter_limit: int = 10_000) -> None:
        self._queues: dict[str, list[tuple[float, int, str]]] = {}
        self._deliveries: dict[str, Delivery] = {}
        self._claimed: set[str] = set()
        self._order = itertools.count()
        self._dead: deque[DeadLetter] = deque(maxlen=dead_letter_limit)

    def _queue(self, delivery: Delivery, due: float) -> None:
        self._deliveries[delivery.id] = delivery
        heapq.heappush(self._queues.setdefault(delivery.lane, []), (due, next(self._order), delivery.id))

    async def push(self, deliveries: Sequence[Delivery], due: float) -> None:
        for delivery in deliveries:
            self._queue(delivery, due)

    async def claim(self, lane: str, now: float, limit: int) -> list[Delivery]:
        queue = self._queues.get(lane, [])
        claimed: list[Delivery] = []
        while queue and len(claimed) < limit and queue[0][0] <= now:
            _, _, delivery_id = heapq.heappop(queue)
            self._claimed.add(delivery_id)
            claimed.append(self._deliveries[delivery_id])
        return claimed

    async def retry(self, delivery: Delivery, due: float) -> None:
        self._claimed.discard(delivery.id)
        self._queue(delivery, due)

    async def done(self, delivery: Delivery) -> None:
        self._claimed.discard(delivery.id)
        self._deliveries.pop(delivery.id, None)

    async def bury(self, delivery: Delivery, dead: DeadLetter) -> None:
        await self.done(delivery)
        self._dead.appendleft(dead)

    async def pending(self, lane: str) -> int:
        return sum(1 for delivery in self._deliveries.values() if delivery.lane == lane)

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        return list(itertools.islice(self._dead, limit))

    async def close(self) -> None:
        pass

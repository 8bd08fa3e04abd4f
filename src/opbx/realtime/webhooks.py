"""The webhook sender: batches an app's events, signs and POSTs them, retries, keeps what fails.

Spec: https://pusher.com/docs/channels/server_api/webhooks. Each app lists its targets
(:class:`~opbx.protocol.app.WebhookTarget`): a URL, the kinds of event it wants, extra
headers and a batching window. For each target:

* :meth:`WebhookSender.emit` never blocks: the event joins the target's open batch, which
  closes after ``batch_ms`` or at 50 events (at once when ``batch_ms`` is 0), becoming a
  :class:`~opbx.realtime.webhook_store.Delivery` (a fixed, signed-at-send body);
* deliveries go into a :class:`~opbx.realtime.webhook_store.DeliveryStore`: memory for one
  node, Redis with the Redis adapter, so a delivery outlives the node that made it and
  is sent by exactly one node (claims);
* a lane task per target claims due deliveries and POSTs them one after another, so the
  endpoint gets them in order (a retried one comes later, its ``time_ms`` tells when). A 2xx
  answer is success. Anything else is retried with exponential backoff and full jitter
  (1 s doubling to 60 s) until ``retry_window`` seconds (5 minutes by default) have passed
  since the first attempt; then the delivery becomes a dead letter: logged in full,
  counted, and listed by the HTTP API (``GET /apps/{id}/webhooks/dead_letters``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from opbx.protocol.app import App, AppId, WebhookTarget
from opbx.protocol.webhooks import WebhookEvent, encode_webhook_body, webhook_headers
from opbx.realtime.counters import WebhookCounters
from opbx.realtime.webhook_sink import WebhookSink
from opbx.realtime.webhook_store import ClaimLost, DeadLetter, Delivery, DeliveryStore, lane_key

__all__ = ["MAX_BATCH", "WebhookSender", "retry_delay"]

log = logging.getLogger("opbx.realtime.webhooks")

MAX_BATCH = 50
"""Events in one request at most."""
_CLAIM_SIZE = 16
"""Deliveries a lane claims at once (then sends one after another, in order)."""
_REQUEST_TIMEOUT = 5.0
_IDLE_POLL = 1.0
"""Seconds between looks at a lane with nothing due (other nodes' retries fall due too)."""


def retry_delay(
    attempts: int, *, base: float = 1.0, cap: float = 60.0, rng: Callable[[], float] = random.random
) -> float:
    """Seconds before the next attempt after ``attempts`` failures: full jitter, doubling, capped."""
    ceiling: float = min(cap, base * 2.0 ** max(attempts - 1, 0))
    return rng() * ceiling


@dataclass(slots=True)
class _Lane:
    """One target of one app: its open batch, and the task sending its deliveries."""

    app: App
    target: WebhookTarget
    batch: list[WebhookEvent] = field(default_factory=list)
    closer: asyncio.TimerHandle | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def key(self) -> str:
        return lane_key(self.app.id, self.target.url)


class WebhookSender:
    """Delivers the webhooks of every app that has targets (see the module doc)."""

    def __init__(
        self,
        apps: list[App],
        store: DeliveryStore,
        *,
        retry_window: float = 300.0,
        retry_base: float = 1.0,
        request_timeout: float = _REQUEST_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._retry_window = retry_window
        self._retry_base = retry_base
        self._clock = clock
        self._client = httpx.AsyncClient(timeout=request_timeout, follow_redirects=False)
        self._lanes: dict[tuple[AppId, str], _Lane] = {
            (app.id, target.url): _Lane(app, target) for app in apps for target in app.webhooks
        }
        self._by_app: dict[AppId, list[_Lane]] = {}
        for lane in self._lanes.values():
            self._by_app.setdefault(lane.app.id, []).append(lane)
        self._counters: dict[AppId, WebhookCounters] = {app.id: WebhookCounters() for app in apps if app.webhooks}
        self._outbox: list[Delivery] = []
        self._outbox_ready = asyncio.Event()
        self._pusher: asyncio.Task[None] | None = None
        self._closing = False
        """Set when the grace is over: the tasks finish what they are doing and return."""

    @property
    def counters(self) -> Mapping[AppId, WebhookCounters]:
        """Requests delivered and attempts failed, per app with webhook targets."""
        return self._counters

    # -- emitting (the server's side; never blocks) -------------------------------------

    def emit(self, app: App, event: WebhookEvent) -> None:
        for lane in self._by_app.get(app.id, ()):
            if event.kind not in lane.target.event_types:
                continue
            lane.batch.append(event)
            if len(lane.batch) >= MAX_BATCH or lane.target.batch_ms == 0:
                self._close_batch(lane)
            elif lane.closer is None:
                loop = asyncio.get_running_loop()
                lane.closer = loop.call_later(lane.target.batch_ms / 1000, self._close_batch, lane)

    def _close_batch(self, lane: _Lane) -> None:
        if lane.closer is not None:
            lane.closer.cancel()
            lane.closer = None
        if not lane.batch:
            return
        now = self._clock()
        body = encode_webhook_body(int(now * 1000), lane.batch)
        delivery = Delivery(uuid.uuid4().hex, lane.app.id, lane.target.url, body, len(lane.batch), now)
        lane.batch = []
        self._outbox.append(delivery)
        self._outbox_ready.set()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self._pusher = asyncio.create_task(self._push_forever())
        for lane in self._lanes.values():
            lane.task = asyncio.create_task(self._send_forever(lane))

    async def stop(self, grace: float) -> None:
        """Close open batches, store them, try to deliver what is due within ``grace``, then stop.

        With a durable store what is left is sent later by another node or after a restart;
        with the memory store it is logged as lost.
        """
        for lane in self._lanes.values():
            self._close_batch(lane)
            lane.wake.set()
        self._outbox_ready.set()
        # Polled (the store may be Redis, shared: no event tells), with a deadline checked by
        # hand, not asyncio.timeout: redis-py can swallow a cancellation.
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and (self._outbox or await self._pending()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        self._closing = True
        for lane in self._lanes.values():
            lane.wake.set()
        self._outbox_ready.set()
        tasks = [task for task in (self._pusher, *(lane.task for lane in self._lanes.values())) if task is not None]
        # A request still in flight gets what is left of the grace (half a second at least);
        # then it is cancelled (with Redis, its claim expires and another node sends it).
        remaining = max(0.5, deadline - time.monotonic())
        _, unfinished = await asyncio.wait(tasks, timeout=remaining) if tasks else (set(), set())
        for task in unfinished:
            task.cancel()
        if not self._store.durable:
            left = await self._pending() + len(self._outbox)
            if left:
                log.error("webhooks: %d deliveries not sent within the %gs grace are lost", left, grace)
        await self._client.aclose()
        await self._store.close()

    async def _pending(self) -> int:
        try:
            return sum([await self._store.pending(lane.key) for lane in self._lanes.values()])
        except Exception as exc:
            log.warning("webhooks: cannot count pending deliveries (%s)", exc)
            return 0

    async def dead_letters(self, app_id: AppId, limit: int = 100) -> list[DeadLetter]:
        """``app_id``'s most recent dead letters, newest first."""
        return [dead for dead in await self._store.dead_letters(10 * limit) if dead.delivery.app_id == app_id][:limit]

    # -- the store's side ----------------------------------------------------------------

    async def _push_forever(self) -> None:
        while not self._closing:
            await self._outbox_ready.wait()
            try:
                await self._push_outbox()
            except Exception as exc:  # the store is down: keep the deliveries, try again
                log.warning("webhooks: cannot queue %d deliveries (%s); retrying", len(self._outbox), exc)
                await asyncio.sleep(1.0)

    async def _push_outbox(self) -> None:
        self._outbox_ready.clear()
        deliveries, self._outbox = self._outbox, []
        if not deliveries:
            return
        try:
            await self._store.push(deliveries, self._clock())
        except BaseException:
            self._outbox = deliveries + self._outbox  # kept, in order, for the next try
            raise
        for delivery in deliveries:
            lane = self._lanes.get((delivery.app_id, delivery.url))
            if lane is not None:
                lane.wake.set()

    async def _send_forever(self, lane: _Lane) -> None:
        while not self._closing:
            try:
                claimed = await self._store.claim(lane.key, self._clock(), _CLAIM_SIZE)
            except Exception as exc:
                log.warning("webhooks: cannot claim deliveries for %s (%s)", lane.target.url, exc)
                claimed = []
            if claimed:
                for delivery in claimed:  # one at a time: the endpoint sees them in order
                    await self._attempt(lane, delivery)
                continue
            if self._closing:
                return
            lane.wake.clear()
            # asyncio.timeout, not wait_for: 3.11's wait_for loses a cancel that meets a wake-up.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_IDLE_POLL):
                    await lane.wake.wait()

    async def _attempt(self, lane: _Lane, delivery: Delivery) -> None:
        now = self._clock()
        delivery.attempts += 1
        if delivery.first_attempt is None:
            delivery.first_attempt = now
        error = await self._post(lane, delivery)
        counters = self._counters[lane.app.id]
        try:
            if error is None:
                counters.delivered += 1
                await self._store.done(delivery)
                return
            counters.failed += 1
            delivery.last_error = error
            if self._clock() - delivery.first_attempt >= self._retry_window:
                self._bury_log(delivery, error)
                await self._store.bury(delivery, DeadLetter(delivery, f"failed for {self._retry_window:g}s", now))
                return
            delay = retry_delay(delivery.attempts, base=self._retry_base)
            log.info(
                "webhook to %s failed (attempt %d: %s); retrying in %.1fs",
                delivery.url,
                delivery.attempts,
                error,
                delay,
            )
            await self._store.retry(delivery, self._clock() + delay)
        except ClaimLost as exc:
            log.warning("webhooks: %s", exc)
        except Exception as exc:  # the store is down: the claim expires and the delivery comes back
            log.warning("webhooks: cannot record the outcome of delivery %s (%s)", delivery.id, exc)

    async def _post(self, lane: _Lane, delivery: Delivery) -> str | None:
        """POST one delivery; None on a 2xx answer, else what went wrong."""
        headers = webhook_headers(lane.app.key, lane.app.secret, delivery.body)
        headers.update(lane.target.headers)
        try:
            response = await self._client.post(delivery.url, content=delivery.body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    def _bury_log(self, delivery: Delivery, error: str) -> None:
        log.error(
            "webhook to %s given up after %d attempts over %gs (last: %s); dead letter %s: %s",
            delivery.url,
            delivery.attempts,
            self._retry_window,
            error,
            delivery.id,
            delivery.body.decode(),
        )


_: type[WebhookSink] = WebhookSender

"""The ``pusher`` driver: the signed HTTP API of any Pusher-compatible server, over several URLs.

Spec: https://pusher.com/docs/channels/library_auth_reference/rest-api#post-event-trigger-an-event
and, for several queued events at once, ``#post-batch-events-trigger-multiple-events``.
Works with our realtime server, Soketi or hosted Pusher; app ids need not be numeric.

Failover: the URLs are tried in the order given. A URL that refuses the connection, times
out or answers 5xx is skipped for :data:`RETRY_AFTER` seconds and the next one is tried at
once; after that it is tried first again, so traffic returns to it within seconds of its
recovery. (A load balancer in front of the nodes is the alternative: one URL, and the
balancer's health checks do the same job; see ``docs/deploy.md``.) A 4xx answer is not
failed over: every node would refuse the same request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from opbx.broadcasting.base import Broadcast, Broadcaster, BroadcastFailed, DeliveryStats
from opbx.broadcasting.http1 import HttpClient, HttpError, Response
from opbx.protocol.signing import body_md5, request_signature

__all__ = ["PRESENCE_TIMEOUT", "RETRY_AFTER", "PusherBroadcaster"]

RETRY_AFTER = 2.0
"""Seconds a URL that failed is passed over before it is tried first again."""
PRESENCE_TIMEOUT = 1.0
"""Of one URL's answer to a presence lookup (a page's request waits for it)."""

log = logging.getLogger("opbx.broadcasting.pusher")


class PusherBroadcaster:
    """Publishes over the URLs in failover order, each through a kept-alive
    :class:`~opbx.broadcasting.http1.HttpClient`; ``timeout`` bounds one request to one URL,
    connecting (at most 1 s) included."""

    name = "pusher"

    def __init__(
        self,
        base_urls: Sequence[str] | str,
        app_id: str,
        key: str,
        secret: str,
        *,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        if not urls:
            raise ValueError("the pusher driver needs at least one URL")
        self.urls = tuple(url.rstrip("/") for url in urls)
        self._app_id = app_id
        self._key = key
        self._secret = secret
        self._clock = clock
        self._clients = {url: HttpClient(url, timeout=timeout, connect_timeout=1.0) for url in self.urls}
        self._passed_over_until: dict[str, float] = {}
        self.stats = DeliveryStats()

    def _signed(self, method: str, path: str, body: bytes) -> dict[str, str]:
        params = {"auth_key": self._key, "auth_timestamp": str(int(time.time())), "auth_version": "1.0"}
        if body:
            params["body_md5"] = body_md5(body)
        params["auth_signature"] = request_signature(self._secret, method, path, params)
        return params

    def _order(self) -> list[str]:
        """The URLs in their order, those recently failed last (still tried: better than nothing)."""
        now = self._clock()
        ready = [url for url in self.urls if self._passed_over_until.get(url, 0.0) <= now]
        return ready + [url for url in self.urls if url not in ready]

    async def _first_answer(
        self, method: str, path: str, body: bytes = b"", *, per_url: float | None = None, count: bool = True
    ) -> tuple[str, Response]:
        """Send a signed request to the URLs in failover order; the first that answers below 500, and its answer.

        A URL that does not answer, or answers 5xx, is passed over for :data:`RETRY_AFTER`
        seconds (and counted as a failed delivery when ``count``). Raises
        :class:`BroadcastFailed` naming each URL's failure when none answers.
        """
        errors: list[str] = []
        for url in self._order():
            try:
                response = await self._clients[url].request(
                    method, path, query=self._signed(method, path, body), body=body, timeout=per_url
                )
            except HttpError as exc:
                errors.append(f"{url}: {type(exc).__name__}: {exc}")
                self._failed(url, count=count)
                continue
            if response.status_code >= 500:
                errors.append(f"{url}: HTTP {response.status_code}")
                self._failed(url, count=count)
                continue
            return url, response
        raise BroadcastFailed("; ".join(errors))

    async def broadcast(self, channels: Sequence[str], event: str, payload: Mapping[str, Any]) -> None:
        body = orjson.dumps({"name": event, "channels": list(channels), "data": orjson.dumps(payload).decode()})
        await self._publish("events", body)

    async def broadcast_batch(self, batch: Sequence[Broadcast]) -> None:
        """One ``POST /apps/{id}/batch_events`` (one item per channel), or one event's own request."""
        if len(batch) == 1:
            await self.broadcast(batch[0].channels, batch[0].event, batch[0].payload)
            return
        items: list[dict[str, str]] = []
        for item in batch:
            data = orjson.dumps(item.payload).decode()
            items.extend({"channel": channel, "name": item.event, "data": data} for channel in item.channels)
        await self._publish("batch_events", orjson.dumps({"batch": items}))

    async def _publish(self, endpoint: str, body: bytes) -> None:
        """POST ``body`` to ``/apps/{id}/{endpoint}``; count it, and raise unless it was accepted."""
        url, response = await self._first_answer("POST", f"/apps/{self._app_id}/{endpoint}", body)
        if response.status_code >= 300:
            self.stats.attempted(url, failed=True)
            raise BroadcastFailed(f"{url}: HTTP {response.status_code}: {response.text[:200]}")
        self.stats.attempted(url)
        self._passed_over_until.pop(url, None)

    def _failed(self, url: str, *, count: bool = True) -> None:
        if count:
            self.stats.attempted(url, failed=True)
        self._passed_over_until[url] = self._clock() + RETRY_AFTER

    async def target_health(self) -> dict[str, bool]:
        """Whether each URL answers, in order."""
        answers: dict[str, bool] = {}
        for url in self.urls:
            try:
                response = await self._clients[url].request("GET", "/")
            except HttpError:
                answers[url] = False
                continue
            answers[url] = response.status_code == 200
        return answers

    async def healthy(self) -> bool | None:
        return any((await self.target_health()).values())

    async def present_users(self, channel: str) -> set[str] | None:
        """``GET /apps/{id}/channels/{channel}/users``, over the URLs in failover order; None if none answers.

        Short timeouts (:data:`PRESENCE_TIMEOUT`): a page waits for this. A URL that does not
        answer is passed over as for a broadcast; the lookup is not counted as a delivery.
        """
        try:
            url, response = await self._first_answer(
                "GET", f"/apps/{self._app_id}/channels/{channel}/users", per_url=PRESENCE_TIMEOUT, count=False
            )
        except BroadcastFailed as exc:
            log.info("presence of %s not read: %s", channel, exc)
            return None
        return _user_ids(url, channel, response)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()


def _user_ids(url: str, channel: str, response: Response) -> set[str] | None:
    """The ids of a ``{"users": [{"id": ...}]}`` answer; None (and a warning) for anything else."""
    if response.status_code != 200:
        log.warning("presence of %s refused by %s: HTTP %d", channel, url, response.status_code)
        return None
    try:
        users = orjson.loads(response.content)["users"]
        return {str(user["id"]) for user in users}
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        log.warning("presence of %s: %s answered %s", channel, url, type(exc).__name__)
        return None


_: type[Broadcaster] = PusherBroadcaster

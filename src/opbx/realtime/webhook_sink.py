"""Where the server reports cluster-wide transitions for the apps' webhooks.

Spec: https://pusher.com/docs/channels/server_api/webhooks

The server calls :meth:`WebhookSink.emit` once per real transition (a channel occupied or
vacated, a member added or removed...), decided atomically by the adapter, so a cluster
fires each webhook once, not once per node. Emitting never blocks: delivery, batching
and retries belong to the sink. What the sink has counted and given up on is part of the
interface too (the metrics and the HTTP API read it), so no caller asks which sink it has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from opbx.protocol.app import App, AppId
from opbx.protocol.webhooks import WebhookEvent
from opbx.realtime.counters import WebhookCounters
from opbx.realtime.webhook_store import DeadLetter

__all__ = ["NoWebhooks", "WebhookSink"]


class WebhookSink(Protocol):
    def emit(self, app: App, event: WebhookEvent) -> None:
        """Queue ``event`` for ``app``'s webhook URLs that want its kind."""

    @property
    def counters(self) -> Mapping[AppId, WebhookCounters]:
        """Requests delivered and attempts failed, per app with webhooks (others are absent)."""

    async def dead_letters(self, app_id: AppId, limit: int = 100) -> list[DeadLetter]:
        """``app_id``'s most recent deliveries given up on, newest first."""

    async def start(self) -> None: ...

    async def stop(self, grace: float) -> None:
        """Deliver what is pending within ``grace`` seconds, then stop."""


class NoWebhooks:
    """No app has a webhook URL: nothing to send, count or keep."""

    def emit(self, app: App, event: WebhookEvent) -> None:
        pass

    @property
    def counters(self) -> Mapping[AppId, WebhookCounters]:
        return {}

    async def dead_letters(self, app_id: AppId, limit: int = 100) -> list[DeadLetter]:
        return []

    async def start(self) -> None:
        pass

    async def stop(self, grace: float) -> None:
        pass


_: type[WebhookSink] = NoWebhooks

"""Where the server reports cluster-wide transitions for the apps' webhooks.

The server calls :meth:`WebhookSink.emit` once per real transition (a channel occupied or
vacated, a member added or removed...), decided atomically by the adapter, so a cluster
fires each webhook once, not once per node. Emitting never blocks: delivery, batching
and retries belong to the sink.
"""

from __future__ import annotations

from typing import Protocol

from opbx.protocol.app import App
from opbx.protocol.webhooks import WebhookEvent

__all__ = ["NoWebhooks", "WebhookSink"]


class WebhookSink(Protocol):
    def emit(self, app: App, event: WebhookEvent) -> None:
        """Queue ``event`` for ``app``'s webhook URLs that want its kind."""

    async def start(self) -> None: ...

    async def stop(self, grace: float) -> None:
        """Deliver what is pending within ``grace`` seconds, then stop."""


class NoWebhooks:
    """No app has a webhook URL: nothing to send."""

    def emit(self, app: App, event: WebhookEvent) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self, grace: float) -> None:
        pass

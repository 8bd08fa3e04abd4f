"""An application: its credentials, its switches and its limits, as plain values.

Limits default to hosted Pusher's documented ones (the ``pusher`` profile); the
``soketi`` profile takes the larger defaults of Soketi and Sockudo instead.
Spec for the figures: https://pusher.com/docs/channels/library_auth_reference/rest-api
(10 KB events, 100 channels per trigger, 10 events per batch),
https://pusher.com/docs/channels/using_channels/presence-channels (100 members,
1 KB user object, 128-character user ids),
https://pusher.com/docs/channels/using_channels/channels (164-character names),
https://pusher.com/docs/channels/using_channels/events#rate-limit (10 client events/s),
https://pusher.com/docs/channels/using_channels/watchlist-events (100 watched users).
Webhooks: https://pusher.com/docs/channels/server_api/webhooks
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NewType

from opbx.protocol.webhooks import WebhookKind

__all__ = ["PROFILES", "App", "AppId", "Limits", "WebhookTarget"]

AppId = NewType("AppId", str)


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-app limits. ``None`` means unlimited."""

    max_connections: int | None = None
    max_channel_name_length: int = 164
    max_event_name_length: int = 200
    max_event_payload_bytes: int = 10 * 1024
    max_channels_per_trigger: int = 100
    max_batch_size: int = 10
    max_presence_members: int = 100
    max_presence_user_info_bytes: int = 1024
    max_user_id_length: int = 128
    client_events_per_second: int = 10
    max_watchlist_size: int = 100

    @property
    def max_frame_bytes(self) -> int:
        """Largest WebSocket message accepted from a client: one event plus its envelope."""
        return self.max_event_payload_bytes + self.max_channel_name_length + self.max_event_name_length + 4096

    @property
    def max_request_body_bytes(self) -> int:
        """Largest HTTP API body: a full batch of maximal events plus their envelopes."""
        per_event = self.max_frame_bytes + self.max_channels_per_trigger * (self.max_channel_name_length + 3)
        return max(per_event, self.max_batch_size * self.max_frame_bytes)


PROFILES: dict[str, Limits] = {
    "pusher": Limits(),
    "soketi": Limits(
        max_channel_name_length=200,
        max_event_payload_bytes=100 * 1024,
        max_presence_user_info_bytes=2 * 1024,
    ),
}
"""Named sets of default limits: hosted Pusher's, and the open-source servers'."""


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """One URL an app's webhooks are POSTed to, as Pusher sends them."""

    url: str
    event_types: frozenset[WebhookKind] = frozenset(WebhookKind)
    """The kinds of event sent to this URL (all by default)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Extra request headers, e.g. credentials the receiving endpoint expects."""
    batch_ms: int = 0
    """0: each event in a request of its own, at once; more: events gathered this long, 50 at most a request."""


@dataclass(frozen=True, slots=True)
class App:
    """One tenant of the server, found by ``id`` over HTTP and by ``key`` over WebSocket."""

    id: AppId
    key: str
    secret: str
    enabled: bool = True
    client_events: bool = False
    subscription_count_events: bool = False
    user_authentication_timeout: float | None = None
    """Seconds a socket may stay unsigned before it is closed with 4009 (off when None)."""
    allowed_origins: tuple[str, ...] = ("*",)
    """Web origins whose pages may connect (see :mod:`opbx.protocol.origins`); others get 4009."""
    limits: Limits = field(default_factory=Limits)
    webhooks: tuple[WebhookTarget, ...] = ()
    """Where the app's webhooks go (none by default)."""

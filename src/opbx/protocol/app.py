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

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import NewType
from urllib.parse import urlsplit

from opbx.protocol.webhooks import WebhookKind

__all__ = ["PROFILES", "App", "AppId", "InvalidWebhookTarget", "Limits", "WebhookTarget"]

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


class InvalidWebhookTarget(ValueError):
    """A webhook target table that cannot be used; the message names the key (``apps[0].webhooks[1].url``)."""


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 section 5.6.2 token
_RESERVED_HEADERS = {"content-type", "content-length", "host", "x-pusher-key", "x-pusher-signature"}
"""Headers the sender sets itself: a target's ``headers`` may not replace them."""


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

    @classmethod
    def from_toml(cls, where: str, table: object) -> WebhookTarget:
        """A ``[[apps.webhooks]]`` table (``docs/configuration.md``), or InvalidWebhookTarget naming ``where``."""
        if not isinstance(table, Mapping):
            raise InvalidWebhookTarget(f"{where}: must be a table")
        unknown = sorted(set(table) - {"url", "event_types", "headers", "batch_ms"})
        if unknown:
            raise InvalidWebhookTarget(f"{where}: unknown setting(s) {', '.join(unknown)}")
        if "url" not in table:
            raise InvalidWebhookTarget(f"{where}.url: missing")
        target = cls(url=_url(f"{where}.url", table["url"]))
        if "event_types" in table:
            target = replace(target, event_types=_kinds(f"{where}.event_types", table["event_types"]))
        if "headers" in table:
            target = replace(target, headers=_headers(f"{where}.headers", table["headers"]))
        if "batch_ms" in table:
            batch_ms = table["batch_ms"]
            if not isinstance(batch_ms, int) or isinstance(batch_ms, bool) or batch_ms < 0:
                raise InvalidWebhookTarget(f"{where}.batch_ms: must be an integer, 0 or more, not {batch_ms!r}")
            target = replace(target, batch_ms=batch_ms)
        return target


def _url(where: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidWebhookTarget(f"{where}: must be an http or https URL, not {value!r}")
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise InvalidWebhookTarget(f"{where}: bad port in {value!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise InvalidWebhookTarget(f"{where}: must be an http or https URL, not {value!r}")
    return value


def _kinds(where: str, value: object) -> frozenset[WebhookKind]:
    names = ", ".join(kind.value for kind in WebhookKind)
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise InvalidWebhookTarget(f"{where}: must be a non-empty array of event names ({names})")
    unknown = [item for item in value if item not in {kind.value for kind in WebhookKind}]
    if unknown:
        raise InvalidWebhookTarget(f"{where}: unknown event type(s) {', '.join(map(repr, unknown))}; known: {names}")
    return frozenset(WebhookKind(item) for item in value)


def _headers(where: str, value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        raise InvalidWebhookTarget(f"{where}: must be a table of header names to values")
    for name, text in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise InvalidWebhookTarget(f"{where}: {name!r} is not a valid header name")
        if name.lower() in _RESERVED_HEADERS:
            raise InvalidWebhookTarget(f"{where}.{name}: set by the server, cannot be replaced")
        if not isinstance(text, str) or any(c in text for c in "\r\n\0"):
            raise InvalidWebhookTarget(f"{where}.{name}: must be a string on one line")
    return tuple(value.items())


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

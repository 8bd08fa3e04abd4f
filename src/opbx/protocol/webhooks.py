"""Webhooks as Pusher sends them to an app's server, sans I/O.

Spec: https://pusher.com/docs/channels/server_api/webhooks

A request's body is ``{"time_ms": ..., "events": [...]}``; its headers carry the app key
(``X-Pusher-Key``) and ``X-Pusher-Signature``, the hex HMAC-SHA256 of the body with the
app secret. Each event is one of the kinds in :class:`WebhookKind`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from opbx.protocol.signing import webhook_signature

__all__ = ["WebhookEvent", "WebhookKind", "encode_webhook_body", "webhook_headers"]


class WebhookKind(StrEnum):
    CHANNEL_OCCUPIED = "channel_occupied"
    CHANNEL_VACATED = "channel_vacated"
    MEMBER_ADDED = "member_added"
    MEMBER_REMOVED = "member_removed"
    CLIENT_EVENT = "client_event"
    CACHE_MISS = "cache_miss"
    SUBSCRIPTION_COUNT = "subscription_count"


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One event of a webhook body; only the fields its kind uses are set."""

    kind: WebhookKind
    channel: str
    user_id: str | None = None
    event: str | None = None
    data: object = None
    socket_id: str | None = None
    subscription_count: int | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.kind.value, "channel": self.channel}
        if self.kind in (WebhookKind.MEMBER_ADDED, WebhookKind.MEMBER_REMOVED):
            body["user_id"] = self.user_id
        elif self.kind is WebhookKind.CLIENT_EVENT:
            body["event"] = self.event
            body["data"] = self.data if isinstance(self.data, str) else orjson.dumps(self.data).decode()
            body["socket_id"] = self.socket_id
            if self.user_id is not None:
                body["user_id"] = self.user_id
        elif self.kind is WebhookKind.SUBSCRIPTION_COUNT:
            body["subscription_count"] = self.subscription_count
        return body


def encode_webhook_body(time_ms: int, events: Sequence[WebhookEvent]) -> bytes:
    return orjson.dumps({"time_ms": time_ms, "events": [event.to_json() for event in events]})


def webhook_headers(key: str, secret: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Pusher-Key": key,
        "X-Pusher-Signature": webhook_signature(secret, body),
    }

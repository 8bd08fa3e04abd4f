"""Names of the protocol's own events, written once.

Spec: https://pusher.com/docs/channels/library_auth_reference/pusher-websockets-protocol#events
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CLIENT_EVENT_PREFIX", "ProtocolEvent"]

CLIENT_EVENT_PREFIX = "client-"


class ProtocolEvent(StrEnum):
    """Every ``pusher:`` and ``pusher_internal:`` event name on the wire."""

    CONNECTION_ESTABLISHED = "pusher:connection_established"
    ERROR = "pusher:error"
    PING = "pusher:ping"
    PONG = "pusher:pong"
    SUBSCRIBE = "pusher:subscribe"
    UNSUBSCRIBE = "pusher:unsubscribe"
    SIGNIN = "pusher:signin"
    SIGNIN_SUCCESS = "pusher:signin_success"
    SUBSCRIPTION_ERROR = "pusher:subscription_error"
    CACHE_MISS = "pusher:cache_miss"
    SUBSCRIPTION_SUCCEEDED = "pusher_internal:subscription_succeeded"
    MEMBER_ADDED = "pusher_internal:member_added"
    MEMBER_REMOVED = "pusher_internal:member_removed"
    SUBSCRIPTION_COUNT = "pusher_internal:subscription_count"
    WATCHLIST_EVENTS = "pusher_internal:watchlist_events"

"""Protocol messages: client frames parsed into values, server messages encoded to JSON bytes.

Spec: https://pusher.com/docs/channels/library_auth_reference/pusher-websockets-protocol#events

Every server message is encoded here and nowhere else, as compact UTF-8 JSON bytes
ready to be framed. Where the protocol double-encodes (``data`` holding a JSON
string), the helpers do it, so callers never build an envelope by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from opbx.protocol.errors import InvalidMessage
from opbx.protocol.events import ProtocolEvent

__all__ = [
    "ClientMessage",
    "cache_miss",
    "channel_event",
    "connection_established",
    "error",
    "member_added",
    "member_removed",
    "parse_client_message",
    "ping",
    "pong",
    "signin_success",
    "subscription_count",
    "subscription_error",
    "subscription_succeeded",
    "watchlist_events",
]


@dataclass(frozen=True, slots=True)
class ClientMessage:
    """A parsed client frame: ``{"event": ..., "channel"?: ..., "data"?: ...}``."""

    event: str
    channel: object
    data: object


def parse_client_message(text: bytes | str) -> ClientMessage:
    """Parse one client frame or raise :class:`InvalidMessage` saying what is wrong."""
    try:
        decoded = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage(f"Invalid JSON: {exc.msg}") from None
    if not isinstance(decoded, dict):
        raise InvalidMessage("A message must be a JSON object")
    event = decoded.get("event")
    if not isinstance(event, str) or not event:
        raise InvalidMessage("A message must have an 'event' string")
    return ClientMessage(event=event, channel=decoded.get("channel"), data=decoded.get("data"))


def _dumps(message: Mapping[str, Any]) -> bytes:
    return orjson.dumps(message)


def connection_established(socket_id: str, activity_timeout: int) -> bytes:
    data = _dumps({"socket_id": socket_id, "activity_timeout": activity_timeout}).decode()
    return _dumps({"event": ProtocolEvent.CONNECTION_ESTABLISHED, "data": data})


def error(code: int | None, message: str, channel: str | None = None) -> bytes:
    envelope: dict[str, Any] = {"event": ProtocolEvent.ERROR}
    if channel is not None:
        envelope["channel"] = channel
    envelope["data"] = {"code": code, "message": message}
    return _dumps(envelope)


_PING = _dumps({"event": ProtocolEvent.PING, "data": {}})
_PONG = _dumps({"event": ProtocolEvent.PONG, "data": {}})


def ping() -> bytes:
    return _PING


def pong() -> bytes:
    return _PONG


def subscription_succeeded(channel: str, presence: Mapping[str, object] | None = None) -> bytes:
    """``presence`` is the roster ``{"ids": [...], "hash": {...}, "count": n}`` of a presence channel."""
    data = "{}" if presence is None else _dumps({"presence": presence}).decode()
    return _dumps({"event": ProtocolEvent.SUBSCRIPTION_SUCCEEDED, "channel": channel, "data": data})


def subscription_error(channel: str, kind: str, message: str, status: int) -> bytes:
    return _dumps(
        {
            "event": ProtocolEvent.SUBSCRIPTION_ERROR,
            "channel": channel,
            "data": {"type": kind, "error": message, "status": status},
        }
    )


def member_added(channel: str, user_id: str, user_info: object) -> bytes:
    data = _dumps({"user_id": user_id, "user_info": user_info}).decode()
    return _dumps({"event": ProtocolEvent.MEMBER_ADDED, "channel": channel, "data": data})


def member_removed(channel: str, user_id: str) -> bytes:
    data = _dumps({"user_id": user_id}).decode()
    return _dumps({"event": ProtocolEvent.MEMBER_REMOVED, "channel": channel, "data": data})


def cache_miss(channel: str) -> bytes:
    return _dumps({"event": ProtocolEvent.CACHE_MISS, "channel": channel})


def signin_success(user_data: str) -> bytes:
    return _dumps({"event": ProtocolEvent.SIGNIN_SUCCESS, "data": {"user_data": user_data}})


def subscription_count(channel: str, count: int) -> bytes:
    data = _dumps({"subscription_count": count}).decode()
    return _dumps({"event": ProtocolEvent.SUBSCRIPTION_COUNT, "channel": channel, "data": data})


def watchlist_events(name: str, user_ids: Sequence[str]) -> bytes:
    """``online`` or ``offline`` news about users on a signed-in socket's watchlist."""
    data = _dumps({"events": [{"name": name, "user_ids": list(user_ids)}]}).decode()
    return _dumps({"event": ProtocolEvent.WATCHLIST_EVENTS, "data": data})


def channel_event(event: str, channel: str, data: object, user_id: str | None = None) -> bytes:
    """An application event as subscribers receive it; ``data`` is relayed as given."""
    envelope: dict[str, Any] = {"event": event, "channel": channel, "data": data}
    if user_id is not None:
        envelope["user_id"] = user_id
    return _dumps(envelope)

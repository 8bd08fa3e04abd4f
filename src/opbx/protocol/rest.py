"""The Pusher HTTP API, sans I/O: request authentication and body validation.

Spec: https://pusher.com/docs/channels/library_auth_reference/rest-api

Every refusal is an :class:`ApiError` carrying the HTTP status the spec gives:
401 for a bad signature, a body that does not match its ``body_md5`` or a stale
timestamp; 400 for a malformed request or a broken limit; 413 for an event whose
data is larger than the app allows; 403 for a disabled app.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from opbx.protocol.app import App, Limits
from opbx.protocol.channels import ChannelName, InvalidChannelName, check_channel_name
from opbx.protocol.signing import body_md5, request_signature, signatures_match

__all__ = [
    "MAX_TIMESTAMP_SKEW",
    "ApiError",
    "Trigger",
    "authenticate",
    "parse_batch",
    "parse_events_body",
    "parse_info",
    "parse_trigger",
]

MAX_TIMESTAMP_SKEW = 600
"""Seconds ``auth_timestamp`` may differ from the server's clock (replay protection)."""

_SOCKET_ID = re.compile(r"\d+\.\d+")
_RESERVED_EVENT_PREFIXES = ("pusher:", "pusher_internal:")


class ApiError(Exception):
    """A refused HTTP API request: ``status`` and a message for the JSON error body."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def authenticate(app: App, method: str, path: str, params: Mapping[str, str], body: bytes, now: float) -> None:
    """Check a request's signature, freshness and body digest; raise :class:`ApiError`."""
    if params.get("auth_key") != app.key:
        raise ApiError(401, "Unknown or missing auth_key")
    signature = params.get("auth_signature")
    if not signature:
        raise ApiError(401, "Missing auth_signature")
    if params.get("auth_version", "1.0") != "1.0":
        raise ApiError(401, "Unsupported auth_version; expected 1.0")
    try:
        timestamp = int(params.get("auth_timestamp", ""))
    except ValueError:
        raise ApiError(401, "Missing or invalid auth_timestamp") from None
    if abs(now - timestamp) > MAX_TIMESTAMP_SKEW:
        raise ApiError(
            401, f"Timestamp expired: auth_timestamp must be within {MAX_TIMESTAMP_SKEW} s of the server's time"
        )
    if body:
        digest = params.get("body_md5")
        if digest is None:
            raise ApiError(401, "Missing body_md5 for a request with a body")
        if not signatures_match(body_md5(body), digest):
            raise ApiError(401, "body_md5 does not match the body")
    expected = request_signature(app.secret, method, path, params)
    if not signatures_match(expected, signature):
        raise ApiError(401, "Invalid signature: check the app secret and how the request was signed")
    if not app.enabled:
        raise ApiError(403, "Application is disabled")


@dataclass(frozen=True, slots=True)
class Trigger:
    """One event to publish to one or more channels."""

    name: str
    data: str
    channels: tuple[ChannelName, ...]
    socket_id: str | None
    info: frozenset[str]


_TRIGGER_INFO = frozenset(("user_count", "subscription_count"))


def parse_info(value: object, allowed: frozenset[str] = _TRIGGER_INFO) -> frozenset[str]:
    """Parse an ``info`` list (comma-separated); unknown attributes are a 400."""
    if value is None or value == "":
        return frozenset()
    if not isinstance(value, str):
        raise ApiError(400, "'info' must be a comma-separated string")
    attributes = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = attributes - allowed
    if unknown:
        raise ApiError(400, f"Unknown info attribute(s): {', '.join(sorted(unknown))}")
    return attributes


def _decode_object(body: bytes) -> dict[str, object]:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ApiError(400, "Request body is not valid JSON") from None
    if not isinstance(decoded, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return decoded


def _channels(item: Mapping[str, object], limits: Limits) -> tuple[ChannelName, ...]:
    if "channels" in item:
        raw = item["channels"]
        if not isinstance(raw, list) or not raw:
            raise ApiError(400, "'channels' must be a non-empty list")
    elif "channel" in item:
        raw = [item["channel"]]
    else:
        raise ApiError(400, "Missing 'channels' or 'channel'")
    if len(raw) > limits.max_channels_per_trigger:
        raise ApiError(400, f"At most {limits.max_channels_per_trigger} channels per event")
    try:
        names = tuple(check_channel_name(name, limits.max_channel_name_length, allow_user_channel=True) for name in raw)
    except InvalidChannelName as exc:
        raise ApiError(400, f"Invalid channel: {exc}") from None
    return tuple(dict.fromkeys(names))


def parse_trigger(item: Mapping[str, object], limits: Limits) -> Trigger:
    """Validate one event of ``POST /events`` or of a batch."""
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "'name' must be a non-empty string")
    if len(name) > limits.max_event_name_length:
        raise ApiError(400, f"Event name is longer than {limits.max_event_name_length} characters")
    if name.startswith(_RESERVED_EVENT_PREFIXES):
        raise ApiError(400, "Event names starting with 'pusher:' or 'pusher_internal:' are reserved")
    data = item.get("data")
    if not isinstance(data, str):
        raise ApiError(400, "'data' must be a string (JSON-encode objects first)")
    if len(data.encode()) > limits.max_event_payload_bytes:
        raise ApiError(413, f"Event data is larger than {limits.max_event_payload_bytes} bytes")
    socket_id = item.get("socket_id")
    if socket_id is not None and (not isinstance(socket_id, str) or _SOCKET_ID.fullmatch(socket_id) is None):
        raise ApiError(400, "'socket_id' must look like '123.456'")
    return Trigger(
        name=name,
        data=data,
        channels=_channels(item, limits),
        socket_id=socket_id,
        info=parse_info(item.get("info")),
    )


def parse_events_body(body: bytes, limits: Limits) -> Trigger:
    """The body of ``POST /apps/{id}/events``."""
    return parse_trigger(_decode_object(body), limits)


def parse_batch(body: bytes, limits: Limits) -> list[Trigger]:
    """The body of ``POST /apps/{id}/batch_events``: ``{"batch": [event, ...]}``."""
    batch = _decode_object(body).get("batch")
    if not isinstance(batch, list) or not batch:
        raise ApiError(400, "'batch' must be a non-empty list")
    if len(batch) > limits.max_batch_size:
        raise ApiError(400, f"At most {limits.max_batch_size} events per batch")
    triggers = []
    for item in batch:
        if not isinstance(item, dict):
            raise ApiError(400, "Each batch item must be an object")
        if "channels" in item:
            raise ApiError(400, "Batch items take a single 'channel'")
        triggers.append(parse_trigger(item, limits))
    return triggers

"""HMAC-SHA256 signatures of the Pusher protocol, all compared in constant time.

Spec: https://pusher.com/docs/channels/library_auth_reference/auth-signatures
and https://pusher.com/docs/channels/library_auth_reference/rest-api#generating-authentication-signatures

* channel authorization: ``key:hex(HMAC(secret, "socket_id:channel[:channel_data]"))``
* user authentication:   ``key:hex(HMAC(secret, "socket_id::user::user_data"))``
* HTTP API requests:     ``hex(HMAC(secret, "METHOD\\nPATH\\nsorted_query"))``
* webhooks:              ``hex(HMAC(secret, body))`` in ``X-Pusher-Signature``
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = [
    "body_md5",
    "channel_auth",
    "hmac_sha256_hex",
    "request_signature",
    "request_string_to_sign",
    "signatures_match",
    "user_auth",
    "verify_channel_auth",
    "verify_user_auth",
    "webhook_signature",
]


def hmac_sha256_hex(secret: str, message: str | bytes) -> str:
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def signatures_match(expected: str, given: str) -> bool:
    """Constant-time comparison, so a forger learns nothing from timing."""
    return hmac.compare_digest(expected.encode(), given.encode())


def channel_auth(key: str, secret: str, socket_id: str, channel: str, channel_data: str | None = None) -> str:
    """The ``auth`` value a client sends with ``pusher:subscribe``."""
    to_sign = f"{socket_id}:{channel}" if channel_data is None else f"{socket_id}:{channel}:{channel_data}"
    return f"{key}:{hmac_sha256_hex(secret, to_sign)}"


def verify_channel_auth(
    key: str, secret: str, socket_id: str, channel: str, channel_data: str | None, auth: str
) -> bool:
    return signatures_match(channel_auth(key, secret, socket_id, channel, channel_data), auth)


def user_auth(key: str, secret: str, socket_id: str, user_data: str) -> str:
    """The ``auth`` value a client sends with ``pusher:signin``."""
    return f"{key}:{hmac_sha256_hex(secret, f'{socket_id}::user::{user_data}')}"


def verify_user_auth(key: str, secret: str, socket_id: str, user_data: str, auth: str) -> bool:
    return signatures_match(user_auth(key, secret, socket_id, user_data), auth)


def body_md5(body: bytes) -> str:
    return hashlib.md5(body).hexdigest()  # noqa: S324 - the protocol names MD5


def request_string_to_sign(method: str, path: str, params: Mapping[str, str]) -> str:
    """``METHOD\\nPATH\\nk=v&...``: keys lower-cased and sorted, values not URL-escaped."""
    query = "&".join(
        f"{key}={value}"
        for key, value in sorted((k.lower(), v) for k, v in params.items() if k.lower() != "auth_signature")
    )
    return f"{method.upper()}\n{path}\n{query}"


def request_signature(secret: str, method: str, path: str, params: Mapping[str, str]) -> str:
    return hmac_sha256_hex(secret, request_string_to_sign(method, path, params))


def webhook_signature(secret: str, body: bytes) -> str:
    return hmac_sha256_hex(secret, body)

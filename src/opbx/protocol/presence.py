"""Presence members and signed-in users, parsed from the JSON their auth signs.

Spec: https://pusher.com/docs/channels/using_channels/presence-channels
(``channel_data`` is ``{"user_id": ..., "user_info": {...}}``) and
https://pusher.com/docs/channels/using_channels/user-authentication
(``user_data`` is ``{"id": ..., "user_info"?: ..., "watchlist"?: [...]}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NewType

import orjson

__all__ = [
    "InvalidUserData",
    "PresenceMember",
    "SignedInUser",
    "UserId",
    "parse_channel_data",
    "parse_user_data",
    "roster",
]

UserId = NewType("UserId", str)


class InvalidUserData(ValueError):
    """``channel_data`` or ``user_data`` that is not what the protocol requires."""


@dataclass(frozen=True, slots=True)
class PresenceMember:
    """One socket's identity on a presence channel. Ids are compared as strings."""

    user_id: UserId
    user_info: object


@dataclass(frozen=True, slots=True)
class SignedInUser:
    """The user a socket signed in as with ``pusher:signin``."""

    id: UserId
    user_data: str
    watchlist: tuple[UserId, ...] = ()


def _user_id(value: object, max_length: int, field: str) -> UserId:
    # Laravel and others send integer ids; the protocol compares them as strings.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidUserData(f"'{field}' must be a string or an integer")
    text = str(value)
    if not text:
        raise InvalidUserData(f"'{field}' must not be empty")
    if len(text) > max_length:
        raise InvalidUserData(f"'{field}' is longer than {max_length} characters")
    return UserId(text)


def _object(text: object, what: str) -> dict[str, object]:
    if not isinstance(text, str):
        raise InvalidUserData(f"{what} must be a JSON string")
    try:
        decoded = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise InvalidUserData(f"{what} is not valid JSON") from None
    if not isinstance(decoded, dict):
        raise InvalidUserData(f"{what} must be a JSON object")
    return decoded


def parse_channel_data(channel_data: object, *, max_user_id_length: int, max_user_info_bytes: int) -> PresenceMember:
    """Parse a presence subscription's ``channel_data``; raise :class:`InvalidUserData`."""
    decoded = _object(channel_data, "channel_data")
    user_id = _user_id(decoded.get("user_id"), max_user_id_length, "user_id")
    user_info = decoded.get("user_info")
    if user_info is not None and len(orjson.dumps(user_info)) > max_user_info_bytes:
        raise InvalidUserData(f"user_info is larger than {max_user_info_bytes} bytes")
    return PresenceMember(user_id=user_id, user_info=user_info)


def parse_user_data(user_data: object, *, max_user_id_length: int) -> SignedInUser:
    """Parse ``pusher:signin``'s ``user_data``; raise :class:`InvalidUserData`."""
    decoded = _object(user_data, "user_data")
    user_id = _user_id(decoded.get("id"), max_user_id_length, "id")
    raw_watchlist = decoded.get("watchlist", [])
    if not isinstance(raw_watchlist, list):
        raise InvalidUserData("'watchlist' must be a list")
    watchlist = tuple(_user_id(item, max_user_id_length, "watchlist") for item in raw_watchlist)
    assert isinstance(user_data, str)  # checked by _object
    return SignedInUser(id=user_id, user_data=user_data, watchlist=watchlist)


def roster(members: Mapping[UserId, object]) -> dict[str, object]:
    """The ``presence`` object of ``subscription_succeeded``: ``ids``, ``hash``, ``count``."""
    return {"ids": list(members), "hash": dict(members), "count": len(members)}

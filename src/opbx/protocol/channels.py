"""Channel names: their kind, decided by an anchored prefix, and their validity.

Spec: https://pusher.com/docs/channels/using_channels/channels#channel-naming-conventions
(characters ``A-Z a-z 0-9 _ - = @ , . ;``; hosted Pusher allows 164 characters, the
open-source servers 200, so the length is a limit of the app).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import NewType

__all__ = [
    "USER_CHANNEL_PREFIX",
    "WATCHLIST_CHANNEL_PREFIX",
    "ChannelKind",
    "ChannelName",
    "ChannelType",
    "InvalidChannelName",
    "channel_type",
    "check_channel_name",
    "user_channel",
    "watchlist_channel",
]

ChannelName = NewType("ChannelName", str)

USER_CHANNEL_PREFIX = "#server-to-user-"
"""Channel a signed-in user's sockets listen on; only the server publishes to it."""

WATCHLIST_CHANNEL_PREFIX = "#watchlist-"
"""Internal channel on which the sockets watching a user hear it come online or go offline."""

_VALID = re.compile(r"[A-Za-z0-9_\-=@,.;]+")


class ChannelKind(Enum):
    PUBLIC = "public"
    PRIVATE = "private"
    PRESENCE = "presence"
    ENCRYPTED = "private-encrypted"
    USER = "user"


@dataclass(frozen=True, slots=True)
class ChannelType:
    """What a channel name means: its kind, and whether it is a cache channel."""

    kind: ChannelKind
    cached: bool

    @property
    def needs_auth(self) -> bool:
        return self.kind in (ChannelKind.PRIVATE, ChannelKind.PRESENCE, ChannelKind.ENCRYPTED)

    @property
    def is_presence(self) -> bool:
        return self.kind is ChannelKind.PRESENCE

    @property
    def accepts_client_events(self) -> bool:
        """Client events go on private and presence channels, never encrypted ones."""
        return self.kind in (ChannelKind.PRIVATE, ChannelKind.PRESENCE)


# Longest prefixes first: "private-encrypted-" must win over "private-".
_PREFIXES: tuple[tuple[str, ChannelType], ...] = (
    ("private-encrypted-cache-", ChannelType(ChannelKind.ENCRYPTED, cached=True)),
    ("private-encrypted-", ChannelType(ChannelKind.ENCRYPTED, cached=False)),
    ("private-cache-", ChannelType(ChannelKind.PRIVATE, cached=True)),
    ("private-", ChannelType(ChannelKind.PRIVATE, cached=False)),
    ("presence-cache-", ChannelType(ChannelKind.PRESENCE, cached=True)),
    ("presence-", ChannelType(ChannelKind.PRESENCE, cached=False)),
    ("cache-", ChannelType(ChannelKind.PUBLIC, cached=True)),
    (USER_CHANNEL_PREFIX, ChannelType(ChannelKind.USER, cached=False)),
)
_PUBLIC = ChannelType(ChannelKind.PUBLIC, cached=False)


def channel_type(name: str) -> ChannelType:
    """Classify a channel by the prefix its name starts with (anchored, never a substring)."""
    for prefix, kind in _PREFIXES:
        if name.startswith(prefix):
            return kind
    return _PUBLIC


class InvalidChannelName(ValueError):
    """A channel name with a character, length or prefix the protocol does not allow."""


def check_channel_name(name: object, max_length: int, *, allow_user_channel: bool = False) -> ChannelName:
    """Return ``name`` as a :data:`ChannelName`, or raise :class:`InvalidChannelName`.

    ``#server-to-user-`` channels are accepted only where ``allow_user_channel`` is set
    (the server API); a client can never subscribe to one.
    """
    if not isinstance(name, str) or not name:
        raise InvalidChannelName("Channel name must be a non-empty string")
    if len(name) > max_length:
        raise InvalidChannelName(f"Channel name is longer than {max_length} characters")
    body = name
    if name.startswith(USER_CHANNEL_PREFIX):
        if not allow_user_channel:
            raise InvalidChannelName("Channel name must not start with '#'")
        body = name[len(USER_CHANNEL_PREFIX) :]
    if _VALID.fullmatch(body) is None:
        raise InvalidChannelName("Channel name may contain only A-Z a-z 0-9 _ - = @ , . ;")
    return ChannelName(name)


def user_channel(user_id: str) -> ChannelName:
    """The channel that delivers server events to every socket of one signed-in user."""
    return ChannelName(USER_CHANNEL_PREFIX + user_id)


def watchlist_channel(user_id: str) -> ChannelName:
    """The internal channel that tells watchers when ``user_id`` comes online or goes offline."""
    return ChannelName(WATCHLIST_CHANNEL_PREFIX + user_id)

"""The Redis adapter's key scheme, and the kinds of what it writes.

All keys live under the deployment's prefix ``P``, so several deployments may share one
Redis: ``P:nodes`` (zset node -> last beat), ``P:node:{id}:owned`` (set of a node's
entries), ``P:reaping:{id}`` (who reaps a dead node), ``P:{app}:conns`` (hash
socket -> node), ``P:{app}:channels`` (set), ``P:{app}:subs:{channel}`` (hash
socket -> node), ``P:{app}:presence:{channel}:sockets|counts|info`` (hashes),
``P:{app}:users:{user}`` (set), ``P:{app}:cache:{channel}`` (string with a TTL), and the
pub/sub channel ``P:bus``.

The enums' values are what is on the wire and in Redis: nodes of two versions share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import orjson

from opbx.protocol.app import AppId
from opbx.protocol.channels import ChannelName
from opbx.protocol.presence import UserId

__all__ = ["UNCAPPED", "EntryKind", "EnvelopeKind", "Keys", "PresenceKeys", "entry"]

UNCAPPED = 2**31
"""A roster cap no roster reaches: for re-writing members that were already admitted."""


class EntryKind(StrEnum):
    """What an entry of a node's owned set records (its first element)."""

    MEMBER = "m"
    """``["m", app, channel, socket, user]``: a socket in a presence roster."""
    SUBSCRIPTION = "s"
    """``["s", app, channel, socket]``: a socket subscribed to a channel."""
    USER = "u"
    """``["u", app, user, socket]``: a socket signed in as a user."""
    CONNECTION = "c"
    """``["c", app, socket]``: a connected socket."""


REAP_ORDER = (EntryKind.MEMBER, EntryKind.SUBSCRIPTION, EntryKind.USER, EntryKind.CONNECTION)
"""Members leave before their subscription goes, as a live socket's goodbye runs."""


class EnvelopeKind(StrEnum):
    """What a message on the bus asks of the other nodes (its first element)."""

    PUBLISH = "p"
    """``["p", node, app, channel, except_socket, message]``: deliver to local subscribers."""
    TERMINATE = "t"
    """``["t", node, app, user]``: close the user's local sockets."""


def entry(kind: EntryKind, *parts: str) -> str:
    """An owned-set entry: a JSON array, the kind first (Lua scripts store it as given)."""
    return orjson.dumps([kind.value, *parts]).decode()


@dataclass(frozen=True, slots=True)
class PresenceKeys:
    """A presence roster's three hashes."""

    sockets: str
    """socket -> user"""
    counts: str
    """user -> how many of the user's sockets are in the roster"""
    info: str
    """user -> ``user_info`` (JSON)"""


@dataclass(frozen=True, slots=True)
class Keys:
    """Every key and channel name of one deployment (one prefix)."""

    prefix: str

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    @property
    def bus(self) -> str:
        return self._key("bus")

    @property
    def nodes(self) -> str:
        return self._key("nodes")

    def owned(self, node: str) -> str:
        return self._key("node", node, "owned")

    def reaping(self, node: str) -> str:
        return self._key("reaping", node)

    def connections(self, app_id: AppId) -> str:
        return self._key(app_id, "conns")

    def channels(self, app_id: AppId) -> str:
        return self._key(app_id, "channels")

    def subscriptions(self, app_id: AppId, channel: ChannelName) -> str:
        return self._key(app_id, "subs", channel)

    def presence(self, app_id: AppId, channel: ChannelName) -> PresenceKeys:
        base = (app_id, "presence", channel)
        return PresenceKeys(self._key(*base, "sockets"), self._key(*base, "counts"), self._key(*base, "info"))

    def users(self, app_id: AppId, user_id: UserId) -> str:
        return self._key(app_id, "users", user_id)

    def cache(self, app_id: AppId, channel: ChannelName) -> str:
        return self._key(app_id, "cache", channel)

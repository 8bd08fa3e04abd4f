"""The cluster's shared state in Redis: each change a Lua script, each read a pipeline.

Every change is recorded in the owning node's ``owned`` set in the same script, so a
dead node's entries can be found and removed (``leases.py``). ``node`` names the owner:
this node, or a dead one being reaped. Calls raise ``RedisError`` when Redis is away;
deciding what to answer then is the adapter's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from redis.asyncio import Redis

from opbx.adapters.base import ChannelCounts, Occupancy, PresenceJoin
from opbx.adapters.redis.keys import EntryKind, Keys, entry
from opbx.adapters.redis.scripts import Script, Scripts
from opbx.protocol.app import AppId
from opbx.protocol.channels import ChannelName, channel_type
from opbx.protocol.presence import PresenceMember, UserId
from opbx.protocol.session import SocketId

__all__ = ["SharedState"]


class SharedState:
    """Connections, subscriptions, rosters, users and cache of every node, in one Redis."""

    def __init__(self, client: Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self.scripts = Scripts(client)

    # -- leases -------------------------------------------------------------------------

    async def heartbeat(self, node: str) -> bool:
        """Renew ``node``'s lease; True when Redis did not know the node."""
        return bool(await self.scripts[Script.HEARTBEAT](keys=[self.keys.nodes], args=[node]))

    async def dead_nodes(self, lease: float) -> list[str]:
        """The nodes that last renewed their lease more than ``lease`` seconds ago."""
        dead = await self.scripts[Script.DEAD_NODES](keys=[self.keys.nodes], args=[int(lease * 1000)])
        return [_text(raw) for raw in dead]

    async def claim(self, node: str, claimer: str) -> bool:
        """Take the job of reaping ``node`` for a minute; False when another node has it."""
        return bool(await self.client.set(self.keys.reaping(node), claimer, nx=True, px=60_000))

    async def owned(self, node: str) -> list[list[str]]:
        """``node``'s owned entries, decoded: ``[kind, ...parts]`` (see :class:`EntryKind`)."""
        return [orjson.loads(raw) for raw in await self.client.smembers(self.keys.owned(node))]

    async def forget(self, node: str, *, claimed: bool) -> None:
        """Drop ``node``'s owned set and lease (and the claim on reaping it, if one was taken)."""
        await self.client.delete(self.keys.owned(node))
        await self.client.zrem(self.keys.nodes, node)
        if claimed:
            await self.client.delete(self.keys.reaping(node))

    # -- connections ----------------------------------------------------------------------

    async def connect(self, node: str, app_id: AppId, socket_id: SocketId) -> int:
        count: int = await self.scripts[Script.CONNECT](
            keys=[self.keys.connections(app_id), self.keys.owned(node)],
            args=[socket_id, node, entry(EntryKind.CONNECTION, app_id, socket_id)],
        )
        return count

    async def disconnect(self, node: str, app_id: AppId, socket_id: SocketId) -> None:
        await self.scripts[Script.DISCONNECT](
            keys=[self.keys.connections(app_id), self.keys.owned(node)],
            args=[socket_id, entry(EntryKind.CONNECTION, app_id, socket_id)],
        )

    # -- subscriptions --------------------------------------------------------------------

    async def subscribe(self, node: str, app_id: AppId, channel: ChannelName, socket_id: SocketId) -> Occupancy:
        count, changed = await self.scripts[Script.SUBSCRIBE](
            keys=[self.keys.subscriptions(app_id, channel), self.keys.channels(app_id), self.keys.owned(node)],
            args=[socket_id, node, channel, entry(EntryKind.SUBSCRIPTION, app_id, channel, socket_id)],
        )
        return Occupancy(count=int(count), changed=bool(changed))

    async def unsubscribe(self, node: str, app_id: AppId, channel: ChannelName, socket_id: SocketId) -> Occupancy:
        count, changed = await self.scripts[Script.UNSUBSCRIBE](
            keys=[self.keys.subscriptions(app_id, channel), self.keys.channels(app_id), self.keys.owned(node)],
            args=[socket_id, channel, entry(EntryKind.SUBSCRIPTION, app_id, channel, socket_id)],
        )
        return Occupancy(count=int(count), changed=bool(changed))

    # -- presence -------------------------------------------------------------------------

    async def add_member(
        self,
        node: str,
        app_id: AppId,
        channel: ChannelName,
        socket_id: SocketId,
        member: PresenceMember,
        max_members: int,
    ) -> PresenceJoin:
        roster = self.keys.presence(app_id, channel)
        accepted, first, flat = await self.scripts[Script.ADD_MEMBER](
            keys=[roster.sockets, roster.counts, roster.info, self.keys.owned(node)],
            args=[
                socket_id,
                member.user_id,
                orjson.dumps(member.user_info),
                max_members,
                entry(EntryKind.MEMBER, app_id, channel, socket_id, member.user_id),
            ],
        )
        return PresenceJoin(accepted=bool(accepted), first=bool(first), members=_roster(flat))

    async def remove_member(
        self, node: str, app_id: AppId, channel: ChannelName, socket_id: SocketId, user_id: UserId
    ) -> bool:
        roster = self.keys.presence(app_id, channel)
        last = await self.scripts[Script.REMOVE_MEMBER](
            keys=[roster.sockets, roster.counts, roster.info, self.keys.owned(node)],
            args=[socket_id, entry(EntryKind.MEMBER, app_id, channel, socket_id, user_id)],
        )
        return bool(last)

    async def members(self, app_id: AppId, channel: ChannelName) -> dict[UserId, object]:
        flat = await self.client.hgetall(self.keys.presence(app_id, channel).info)
        return {UserId(_text(user)): orjson.loads(info) for user, info in flat.items()}

    # -- signed-in users ------------------------------------------------------------------

    async def sign_in(self, node: str, app_id: AppId, user_id: UserId, socket_id: SocketId) -> bool:
        first = await self.scripts[Script.SIGN_IN](
            keys=[self.keys.users(app_id, user_id), self.keys.owned(node)],
            args=[socket_id, entry(EntryKind.USER, app_id, user_id, socket_id)],
        )
        return bool(first)

    async def sign_out(self, node: str, app_id: AppId, user_id: UserId, socket_id: SocketId) -> bool:
        last = await self.scripts[Script.SIGN_OUT](
            keys=[self.keys.users(app_id, user_id), self.keys.owned(node)],
            args=[socket_id, entry(EntryKind.USER, app_id, user_id, socket_id)],
        )
        return bool(last)

    async def online(self, app_id: AppId, user_ids: Sequence[UserId]) -> list[UserId]:
        async with self.client.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.exists(self.keys.users(app_id, user_id))
            present = await pipe.execute()
        return [user_id for user_id, exists in zip(user_ids, present, strict=True) if exists]

    # -- channel queries ------------------------------------------------------------------

    async def channels(self, app_id: AppId) -> dict[ChannelName, ChannelCounts]:
        names = sorted(ChannelName(_text(raw)) for raw in await self.client.smembers(self.keys.channels(app_id)))
        async with self.client.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hlen(self.keys.subscriptions(app_id, name))
                pipe.hlen(self.keys.presence(app_id, name).info)
            counts = await pipe.execute()
        result = {}
        for index, name in enumerate(names):
            subscriptions, users = counts[2 * index], counts[2 * index + 1]
            if subscriptions:
                result[name] = ChannelCounts(subscriptions, users if channel_type(name).is_presence else None)
        return result

    async def channel(self, app_id: AppId, channel: ChannelName) -> ChannelCounts:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hlen(self.keys.subscriptions(app_id, channel))
            pipe.hlen(self.keys.presence(app_id, channel).info)
            subscriptions, users = await pipe.execute()
        return ChannelCounts(subscriptions, users if channel_type(channel).is_presence else None)

    # -- cache channels -------------------------------------------------------------------

    async def cache_set(self, app_id: AppId, channel: ChannelName, message: bytes, ttl: float) -> None:
        await self.client.set(self.keys.cache(app_id, channel), message, px=int(ttl * 1000))

    async def cache_get(self, app_id: AppId, channel: ChannelName) -> bytes | None:
        value = await self.client.get(self.keys.cache(app_id, channel))
        return value.encode() if isinstance(value, str) else value


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _roster(flat: list[Any]) -> dict[UserId, object]:
    """``HGETALL``'s flat reply (user, info, user, info...) as a roster."""
    return {UserId(_text(flat[index])): orjson.loads(flat[index + 1]) for index in range(0, len(flat), 2)}

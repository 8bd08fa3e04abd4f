"""The message bus: one Redis pub/sub channel (``P:bus``) that every node listens on.

The publishing node delivers to its own sockets at once and skips its own echo; every
other node delivers to its sockets, so each subscriber gets each message once. Pub/sub
is at most once: a message published while a node's subscription is down is lost to
that node (``docs/scaling.md`` measures how much a failover loses).
https://redis.io/docs/latest/develop/interact/pubsub/
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from opbx.adapters.base import AdapterHandler
from opbx.adapters.redis.keys import EnvelopeKind
from opbx.protocol.app import AppId
from opbx.protocol.channels import ChannelName
from opbx.protocol.presence import UserId
from opbx.protocol.session import SocketId

__all__ = ["PubSubBus", "Publish", "Terminate", "decode", "encode_publish", "encode_terminate"]

log = logging.getLogger("opbx.adapters.redis")

_BACKOFF_MAX = 10.0


@dataclass(frozen=True, slots=True)
class Publish:
    """Deliver ``message`` to the local subscribers of ``channel``, except one socket."""

    node: str
    app_id: AppId
    channel: ChannelName
    except_socket: SocketId | None
    message: bytes


@dataclass(frozen=True, slots=True)
class Terminate:
    """Close the local sockets signed in as ``user_id``."""

    node: str
    app_id: AppId
    user_id: UserId


def encode_publish(node: str, app_id: AppId, channel: ChannelName, message: bytes, except_socket: str | None) -> bytes:
    return orjson.dumps([EnvelopeKind.PUBLISH.value, node, app_id, channel, except_socket, message.decode()])


def encode_terminate(node: str, app_id: AppId, user_id: UserId) -> bytes:
    return orjson.dumps([EnvelopeKind.TERMINATE.value, node, app_id, user_id])


def decode(raw: bytes) -> Publish | Terminate | None:
    """An envelope from the bus; None for anything malformed or of an unknown kind."""
    try:
        envelope = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    match envelope:
        case [EnvelopeKind.PUBLISH, str(node), str(app_id), str(channel), str() | None as except_socket, str(message)]:
            socket = SocketId(except_socket) if except_socket is not None else None
            return Publish(node, AppId(app_id), ChannelName(channel), socket, message.encode())
        case [EnvelopeKind.TERMINATE, str(node), str(app_id), str(user_id)]:
            return Terminate(node, AppId(app_id), UserId(user_id))
    return None


class PubSubBus:
    """This node's end of the bus: publishes, and a listener that reconnects with backoff."""

    def __init__(self, client: Redis, channel: str, node_id: str) -> None:
        self.handler: AdapterHandler | None = None
        """Where messages from other nodes go (set when the adapter starts)."""
        self.closing = False
        self._client = client
        self._channel = channel
        self._node_id = node_id
        self._pubsub: Any = None

    async def publish(
        self, app_id: AppId, channel: ChannelName, message: bytes, except_socket: SocketId | None
    ) -> None:
        """Send to the other nodes (raises ``RedisError`` when Redis is away)."""
        await self._client.publish(
            self._channel, encode_publish(self._node_id, app_id, channel, message, except_socket)
        )

    async def terminate_user(self, app_id: AppId, user_id: UserId) -> None:
        """Ask the other nodes to close the user's sockets (raises ``RedisError`` when Redis is away)."""
        await self._client.publish(self._channel, encode_terminate(self._node_id, app_id, user_id))

    def received(self, raw: bytes) -> None:
        """Hand a message from another node to the handler; our own echo is skipped."""
        envelope = decode(raw)
        if envelope is None:
            log.warning("ignoring a malformed bus message")
            return
        handler = self.handler
        if envelope.node == self._node_id or handler is None:
            return
        if isinstance(envelope, Publish):
            handler.deliver(envelope.app_id, envelope.channel, envelope.message, envelope.except_socket)
        else:
            handler.terminate_user(envelope.app_id, envelope.user_id)

    async def listen(self, connected: Callable[[], Awaitable[None]], failed: Callable[[str, Exception], None]) -> None:
        """Receive until cancelled; on a failure report it, back off, subscribe again.

        ``connected`` runs after each (re)subscription: the adapter writes back what Redis
        may have missed. Each new subscription opens a new connection, so with Sentinel it
        goes to whichever Redis is the master then.
        """
        delay = 0.1
        while True:
            pubsub = self._pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                await connected()
                delay = 0.1
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self.received(message["data"])
            except (RedisError, OSError) as exc:
                if self.closing:  # redis-py may turn our cancellation into a connection error
                    return
                failed("the Redis bus", exc)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                await asyncio.sleep(delay)
                delay = min(_BACKOFF_MAX, delay * 2)

    async def close(self) -> None:
        """Close the subscription's connection: redis-py's retrying read can swallow a cancellation."""
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pubsub.aclose(), 2)

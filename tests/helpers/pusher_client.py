"""A thin Pusher protocol client over the `websockets` library, for assertions on the wire."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from opbx.protocol.signing import channel_auth, user_auth


class PusherClient:
    """One connection; ``events`` collects every message the server sends."""

    def __init__(self, connection: ClientConnection, socket_id: str, activity_timeout: int) -> None:
        self.ws = connection
        self.socket_id = socket_id
        self.activity_timeout = activity_timeout

    @classmethod
    async def connect(cls, port: int, key: str, query: str = "protocol=7&client=test&version=1") -> PusherClient:
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/app/{key}?{query}", max_size=None)
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert first["event"] == "pusher:connection_established", first
        data = json.loads(first["data"])
        return cls(ws, data["socket_id"], data["activity_timeout"])

    async def send(self, event: str, data: Any = None, channel: str | None = None) -> None:
        message: dict[str, Any] = {"event": event}
        if data is not None:
            message["data"] = data
        if channel is not None:
            message["channel"] = channel
        await self.ws.send(json.dumps(message))

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next message from the server, parsed."""
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return message

    async def expect(self, event: str, timeout: float = 5.0) -> dict[str, Any]:
        """Read until ``event`` arrives (failing on timeout); return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.next(max(0.01, deadline - loop.time()))
            if message["event"] == event:
                return message

    async def nothing_within(self, seconds: float) -> None:
        """Assert the server sends nothing for ``seconds``."""
        try:
            message = await asyncio.wait_for(self.ws.recv(), seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message: {message!r}")

    async def subscribe(
        self,
        channel: str,
        *,
        secret: str | None = None,
        key: str | None = None,
        channel_data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Subscribe (signing when ``secret`` is given) and return the server's answer."""
        data: dict[str, Any] = {"channel": channel}
        encoded = json.dumps(channel_data) if channel_data is not None else None
        if secret is not None and key is not None:
            data["auth"] = channel_auth(key, secret, self.socket_id, channel, encoded)
        if encoded is not None:
            data["channel_data"] = encoded
        return await self.subscribe_signed(channel, data)

    async def subscribe_signed(self, channel: str, auth: dict[str, Any]) -> dict[str, Any]:
        """Subscribe with an ``{auth, channel_data?}`` answer from an authorization endpoint."""
        await self.send("pusher:subscribe", {"channel": channel, **auth})
        while True:
            message = await self.next()
            if message.get("channel") == channel and message["event"] in (
                "pusher_internal:subscription_succeeded",
                "pusher:subscription_error",
            ):
                return message

    async def sign_in(self, key: str, secret: str, user: dict[str, Any]) -> dict[str, Any]:
        user_data = json.dumps(user)
        await self.send(
            "pusher:signin", {"auth": user_auth(key, secret, self.socket_id, user_data), "user_data": user_data}
        )
        return await self.next()

    async def close(self) -> None:
        await self.ws.close()


async def told_to_reconnect(client: PusherClient) -> tuple[dict[str, object], int]:
    """Read until the socket closes; return the last pusher:error and the close code."""
    error: dict[str, object] = {}
    while True:
        try:
            message = await client.next(timeout=15)
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else None
            break
        if message["event"] == "pusher:error":
            error = message["data"]
    assert code is not None, "closed without a close frame"
    return error, code

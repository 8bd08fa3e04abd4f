"""The ``pusher`` driver: the signed HTTP API of any Pusher-compatible server.

Spec: https://pusher.com/docs/channels/library_auth_reference/rest-api#post-event-trigger-an-event
Works with our realtime server, Soketi or hosted Pusher; app ids need not be numeric.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import orjson

from opbx.broadcasting.base import Broadcaster, BroadcastFailed
from opbx.protocol.signing import body_md5, request_signature

__all__ = ["PusherBroadcaster"]


class PusherBroadcaster:
    name = "pusher"

    def __init__(self, base_url: str, app_id: str, key: str, secret: str, *, timeout: float = 5.0) -> None:
        self._app_id = app_id
        self._key = key
        self._secret = secret
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)

    def _signed(self, method: str, path: str, body: bytes) -> dict[str, str]:
        params = {"auth_key": self._key, "auth_timestamp": str(int(time.time())), "auth_version": "1.0"}
        if body:
            params["body_md5"] = body_md5(body)
        params["auth_signature"] = request_signature(self._secret, method, path, params)
        return params

    async def broadcast(self, channels: Sequence[str], event: str, payload: Mapping[str, Any]) -> None:
        path = f"/apps/{self._app_id}/events"
        body = orjson.dumps({"name": event, "channels": list(channels), "data": orjson.dumps(payload).decode()})
        try:
            response = await self._client.post(
                path,
                params=self._signed("POST", path, body),
                content=body,
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise BroadcastFailed(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            raise BroadcastFailed(f"HTTP {response.status_code}: {response.text[:200]}")

    async def healthy(self) -> bool | None:
        try:
            response = await self._client.get("/")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def close(self) -> None:
        await self._client.aclose()


_: type[Broadcaster] = PusherBroadcaster

"""The real Redis of this machine, under a key prefix of the test's own."""

from __future__ import annotations

import os
import uuid

import redis.asyncio as redis

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def unique_prefix() -> str:
    return f"opbx-test-{uuid.uuid4().hex[:10]}"


async def delete_prefix(prefix: str, url: str = REDIS_URL) -> None:
    client = redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()

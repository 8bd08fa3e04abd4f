"""A Redis ``PING`` without a client library: the health check's only use of Redis."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

__all__ = ["ping"]


async def ping(url: str) -> bool:
    """True when Redis at ``url`` answers PONG; the caller bounds the wait."""
    parts = urlsplit(url)
    try:
        reader, writer = await asyncio.open_connection(parts.hostname or "127.0.0.1", parts.port or 6379)
    except OSError:
        return False
    try:
        if parts.password:
            writer.write(f"AUTH {parts.username or 'default'} {parts.password}\r\n".encode())
            if not (await reader.readline()).startswith(b"+OK"):
                return False
        writer.write(b"PING\r\n")
        return (await reader.readline()).startswith(b"+PONG")
    except OSError:
        return False
    finally:
        writer.close()

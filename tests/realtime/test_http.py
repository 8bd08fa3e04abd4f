"""HTTP/1.1 handling on the server port: keep-alive, pipelining, limits."""

from __future__ import annotations

import asyncio
import re

import pytest

from opbx.realtime.server import RealtimeServer

pytestmark = pytest.mark.integration


async def exchange(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def test_pipelined_requests_are_answered_in_order(server: RealtimeServer) -> None:
    request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(request * 3 + b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert re.findall(rb"HTTP/1\.1 \d{3}", answer) == [b"HTTP/1.1 200"] * 3 + [b"HTTP/1.1 404"]


async def test_body_over_the_limit_is_413_before_it_is_read(server: RealtimeServer) -> None:
    answer = await exchange(
        server.port, b"POST /apps/100/events HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 413")
    assert b'"error"' in answer


async def test_chunked_body_over_the_limit_is_413(server: RealtimeServer) -> None:
    chunk = b"x" * 65536
    head = b"POST /apps/100/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"".join(b"10000\r\n" + chunk + b"\r\n" for _ in range(40))
    answer = await exchange(server.port, head + body)
    assert answer.startswith(b"HTTP/1.1 413")


async def test_overlong_url_and_headers_are_refused(server: RealtimeServer) -> None:
    assert (await exchange(server.port, b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 414")
    headers = b"".join(b"X-%d: %s\r\n" % (index, b"v" * 1000) for index in range(40))
    assert (await exchange(server.port, b"GET / HTTP/1.1\r\n" + headers + b"\r\n")).startswith(b"HTTP/1.1 431")


async def test_upgrade_without_a_key_or_with_a_wrong_version(server: RealtimeServer) -> None:
    base = b"GET /app/test-key?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    assert (await exchange(server.port, base + b"Sec-WebSocket-Version: 13\r\n\r\n")).startswith(b"HTTP/1.1 400")
    answer = await exchange(server.port, base + b"Sec-WebSocket-Key: a2V5\r\nSec-WebSocket-Version: 8\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 426")
    assert b"Sec-WebSocket-Version: 13" in answer

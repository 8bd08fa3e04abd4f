"""Signed publishing over the HTTP API, with and without keep-alive."""

from __future__ import annotations

import asyncio
import dataclasses
import functools

import orjson

from opbx.bench.publisher import Publisher, signed_events_request
from opbx.bench.target import Endpoint
from opbx.realtime.server import RealtimeServer
from tests.helpers.apps import TEST_APP


def _endpoint(port: int) -> Endpoint:
    return Endpoint("127.0.0.1", port, TEST_APP.id, TEST_APP.key, TEST_APP.secret)


async def test_publishes_on_keep_alive_connections(server: RealtimeServer) -> None:
    publisher = Publisher(_endpoint(server.port), 3)
    await publisher.open()
    results = await asyncio.gather(*(publisher.publish("c", "e", lambda: "data") for _ in range(30)))
    assert all(results)
    assert publisher.ok == 30
    assert publisher.connections_opened == 3
    publisher.close()


async def test_refusals_are_counted(server: RealtimeServer) -> None:
    publisher = Publisher(dataclasses.replace(_endpoint(server.port), secret="wrong"), 1)
    await publisher.open()
    assert not await publisher.publish("c", "e", lambda: "data")
    [(reason, count)] = publisher.errors.items()
    assert reason.startswith("HTTP 401")
    assert count == 1
    publisher.close()


async def test_reconnects_when_the_server_closes_each_connection() -> None:
    """Soketi answers every API request with ``Connection: close``."""
    requests: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(line for line in head.split(b"\r\n") if line.startswith(b"Content-Length")).split(b":")[1])
        requests.append(await reader.readexactly(length))
        writer.write(b'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 11\r\n\r\n{"ok":true}')
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    publisher = Publisher(_endpoint(port), 1)
    await publisher.open()
    for data in ("d0", "d1", "d2"):
        assert await publisher.publish("c", "e", functools.partial(str, data))
    assert not publisher.errors
    assert publisher.connections_opened == 3
    assert [orjson.loads(body)["data"] for body in requests] == ["d0", "d1", "d2"]
    publisher.close()
    listener.close()
    await listener.wait_closed()


def test_requests_are_signed_as_the_server_expects() -> None:
    request = signed_events_request(_endpoint(1), b"{}", timestamp=1_800_000_000)
    head, _, body = request.partition(b"\r\n\r\n")
    assert body == b"{}"
    line = head.split(b"\r\n")[0].decode()
    assert line.startswith(f"POST /apps/{TEST_APP.id}/events?auth_key={TEST_APP.key}&auth_timestamp=1800000000")
    assert "&body_md5=99914b932bd37a50b983c5e7c90ae93b&auth_signature=" in line

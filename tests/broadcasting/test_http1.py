"""The HTTP/1.1 client against real servers: our realtime server, and small asyncio servers of
the test's own that answer oddly (chunked, closing early, never, malformed, resetting)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from opbx.broadcasting.http1 import (
    ClosedEarly,
    ConnectFailed,
    HttpClient,
    HttpError,
    MalformedAnswer,
    TimedOut,
)
from opbx.protocol.signing import body_md5, request_signature
from tests.conftest import ServerFactory
from tests.helpers.apps import TEST_APP
from tests.helpers.pusher_client import PusherClient
from tests.helpers.tls import self_signed

pytestmark = pytest.mark.integration


@dataclass(frozen=True, slots=True)
class Seen:
    """A request as the origin read it: on which connection (from 0), which on it (from 0)."""

    connection: int
    number: int
    head: bytes
    body: bytes


Script = Callable[[Seen, asyncio.StreamWriter], Awaitable[bool]]
"""Answers one request by writing what it likes; False: the origin closes the connection."""


class Origin:
    """A real HTTP server of the test's own, answering each request as its script says."""

    def __init__(self, script: Script) -> None:
        self._script = script
        self.seen: list[Seen] = []
        self.connections = 0
        self.ended = 0
        """Connections over, whoever closed them."""
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for handler in self._handlers:  # those a script keeps waiting
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection, self.connections = self.connections, self.connections + 1
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        number = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                seen = Seen(connection, number, head, await reader.readexactly(length))
                self.seen.append(seen)
                number += 1
                if not await self._script(seen, writer):
                    break
                await writer.drain()
        finally:
            writer.close()
            self.ended += 1
            self._handlers.discard(handler)


OriginFactory = Callable[[Script], Awaitable[Origin]]


@pytest.fixture
async def origin() -> AsyncIterator[OriginFactory]:
    started: list[Origin] = []

    async def start(script: Script) -> Origin:
        server = Origin(script)
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@pytest.fixture
async def clients() -> AsyncIterator[Callable[..., HttpClient]]:
    made: list[HttpClient] = []

    def make(url: str, **options: Any) -> HttpClient:
        client = HttpClient(url, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


def answer(body: bytes = b"ok", status: str = "200 OK", *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def ok(seen: Seen, writer: asyncio.StreamWriter) -> bool:
    writer.write(answer(f"{seen.connection}.{seen.number}".encode()))
    return True


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a crashed or overloaded server does."""
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


def signed(method: str, path: str, body: bytes = b"", **params: str) -> dict[str, str]:
    query = {**params, "auth_key": TEST_APP.key, "auth_timestamp": str(int(time.time())), "auth_version": "1.0"}
    if body:
        query["body_md5"] = body_md5(body)
    query["auth_signature"] = request_signature(TEST_APP.secret, method, path, query)
    return query


async def test_our_realtime_server_answers_signed_requests(
    make_server: ServerFactory, clients: Callable[..., HttpClient]
) -> None:
    server = await make_server()
    client = clients(f"http://127.0.0.1:{server.port}/")
    listener = await PusherClient.connect(server.port, TEST_APP.key)
    await listener.subscribe("news")
    try:
        health = await client.request("GET", "/")
        assert (health.status_code, orjson.loads(health.content)) == (200, {"ok": True})
        assert health.headers["content-type"] == health.headers["Content-Type"] == "application/json"

        path = f"/apps/{TEST_APP.id}/events"
        body = orjson.dumps({"name": "hello", "channel": "news", "data": "{}"})
        published = await client.request("POST", path, query=signed("POST", path, body), body=body)
        assert published.status_code == 200, published.text
        assert (await listener.expect("hello"))["channel"] == "news"

        path = f"/apps/{TEST_APP.id}/channels"  # a comma and a dash, percent-encoded, still verify
        query = signed("GET", path, filter_by_prefix="presence-", info="user_count,subscription_count")
        channels = await client.request("GET", path, query=query)
        assert (channels.status_code, orjson.loads(channels.content)) == (200, {"channels": {}})
        forged = await client.request("GET", path, query={**query, "auth_signature": "0" * 64})
        assert forged.status_code == 401
    finally:
        await listener.close()


async def test_https_with_the_default_context_or_a_given_one(
    make_server: ServerFactory, clients: Callable[..., HttpClient], tmp_path: Path
) -> None:
    certificate = self_signed(tmp_path)
    server = await make_server(ssl_cert=str(certificate.cert_file), ssl_key=str(certificate.key_file))
    url = f"https://127.0.0.1:{server.port}"
    with pytest.raises(ConnectFailed, match="CERTIFICATE_VERIFY_FAILED"):  # the default trusts no self-signed one
        await clients(url).request("GET", "/")
    trusting = clients(url, ssl_context=certificate.client_context())
    assert (await trusting.request("GET", "/")).content == b'{"ok":true}'
    assert (await trusting.request("GET", "/ready")).status_code == 200


async def test_the_request_carries_host_length_type_and_its_query_encoded(
    origin: OriginFactory, clients: Callable[..., HttpClient]
) -> None:
    server = await origin(ok)
    client = clients(server.url + "/base/")
    await client.request("POST", "/apps/1/events", query={"a b": "c&d=é", "x": "1"}, body=b"{}")
    await client.request("GET", "/users", headers={"X-Trace": "7"})
    await client.request("POST", "/empty")
    port = server.url.rsplit(":", 1)[1]
    assert [seen.head.decode().split("\r\n") for seen in server.seen] == [
        [
            "POST /base/apps/1/events?a%20b=c%26d%3D%C3%A9&x=1 HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Connection: keep-alive",
            "Content-Length: 2",
            "Content-Type: application/json",
            "",
            "",
        ],
        ["GET /base/users HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: keep-alive", "X-Trace: 7", "", ""],
        ["POST /base/empty HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: keep-alive", "Content-Length: 0", "", ""],
    ]
    assert server.seen[0].body == b"{}"


async def test_connections_are_kept_alive_and_concurrent_requests_each_get_one(
    origin: OriginFactory, clients: Callable[..., HttpClient]
) -> None:
    in_flight: list[asyncio.Event] = []
    hold = asyncio.Event()

    async def slow_when_held(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        if hold.is_set():
            arrived = asyncio.Event()
            in_flight.append(arrived)
            await arrived.wait()
        return await ok(seen, writer)

    server = await origin(slow_when_held)
    client = clients(server.url, max_idle=2)
    assert [(await client.request("GET", "/")).text for _ in range(3)] == ["0.0", "0.1", "0.2"]
    assert server.connections == 1

    async def three_at_once() -> list[str]:
        hold.set()
        requests = [asyncio.ensure_future(client.request("GET", "/")) for _ in range(3)]
        await until(lambda: len(in_flight) == 3)  # all three are at the origin together
        hold.clear()
        for arrived in in_flight:
            arrived.set()
        in_flight.clear()
        return sorted(response.text for response in await asyncio.gather(*requests))

    assert await three_at_once() == ["0.3", "1.0", "2.0"]
    assert server.connections == 3
    await until(lambda: server.ended == 1)  # one over max_idle is closed...
    again = await three_at_once()
    assert server.connections == 4  # ...the two kept are reused, and one more is opened
    used = sorted(int(text.split(".")[0]) for text in again)
    assert len(set(used)) == 3
    assert used[2] == 3


async def test_a_chunked_body_arriving_a_few_bytes_at_a_time(
    origin: OriginFactory, clients: Callable[..., HttpClient]
) -> None:
    async def chunked(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        wire = (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Part: a\r\nx-part: b\r\n\r\n"
            b"5;name=value\r\nhello\r\n1\r\n,\r\n0006\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        )
        for start in range(0, len(wire), 3):
            writer.write(wire[start : start + 3])
            await writer.drain()
            await asyncio.sleep(0)
        return True

    server = await origin(chunked)
    client = clients(server.url)
    for _ in range(2):
        response = await client.request("GET", "/")
        assert (response.status_code, response.content, response.text) == (200, b"hello, world", "hello, world")
        assert response.headers["X-PART"] == "a, b"  # a repeated field, its values joined
        assert "x-Part" in response.headers
    assert server.connections == 1  # the framing held: the connection was used again


async def test_a_body_to_the_close_and_connection_close_end_the_connection(
    origin: OriginFactory, clients: Callable[..., HttpClient]
) -> None:
    async def unframed_then_close(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        if seen.connection == 0:
            writer.write(b"HTTP/1.1 200 OK\r\n\r\nno length, the close ends it")
            return False
        writer.write(answer(b"closing", "200 OK", "Connection: close"))
        return True  # it says close but keeps the connection: the client still leaves it

    server = await origin(unframed_then_close)
    client = clients(server.url)
    assert (await client.request("GET", "/")).content == b"no length, the close ends it"
    assert (await client.request("GET", "/")).content == b"closing"
    assert (await client.request("GET", "/")).content == b"closing"
    assert server.connections == 3
    await until(lambda: server.ended == 3)


async def test_no_body_for_head_204_and_304_and_interim_answers_skipped(
    origin: OriginFactory, clients: Callable[..., HttpClient]
) -> None:
    async def bodiless(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        if seen.head.startswith(b"HEAD"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        elif seen.number == 1:
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        elif seen.number == 2:
            writer.write(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + answer())
        return True

    server = await origin(bodiless)
    client = clients(server.url)
    head = await client.request("HEAD", "/")
    assert (head.status_code, head.headers["content-length"], head.content) == (200, "5", b"")
    assert [(r.status_code, r.content) for r in [await client.request("GET", "/") for _ in range(3)]] == [
        (204, b""),
        (304, b""),
        (200, b"ok"),
    ]
    assert server.connections == 1


async def test_a_connection_the_server_closed_while_idle_is_not_used(
    origin: OriginFactory, clients: Callable[..., HttpClient]
) -> None:
    async def one_per_connection(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        await ok(seen, writer)
        return False  # framed and kept alive, but closed right after, as an idle timeout does

    server = await origin(one_per_connection)
    client = clients(server.url)
    assert (await client.request("GET", "/")).text == "0.0"
    await until(lambda: server.ended == 1)
    await asyncio.sleep(0.05)  # the close reaches the client
    assert (await client.request("GET", "/")).text == "1.0"
    assert len(server.seen) == 2  # nothing was sent on the closed one


@pytest.mark.parametrize("how", ["closed", "reset"])
async def test_a_request_the_server_closed_on_before_answering_is_sent_once_more(
    origin: OriginFactory, clients: Callable[..., HttpClient], how: str
) -> None:
    async def first_only(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        if seen.number == 0:
            return await ok(seen, writer)
        if how == "reset":
            reset(writer)
        return False  # read the second request, then closed without a byte of answer

    server = await origin(first_only)
    client = clients(server.url)
    assert (await client.request("GET", "/")).text == "0.0"
    assert (await client.request("POST", "/", body=b"{}")).text == "1.0"  # again, on a new connection
    assert [(seen.connection, seen.number) for seen in server.seen] == [(0, 0), (0, 1), (1, 0)]


async def test_it_is_sent_once_more_only(origin: OriginFactory, clients: Callable[..., HttpClient]) -> None:
    async def first_then_nothing(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        return seen.connection == 0 and seen.number == 0 and await ok(seen, writer)

    server = await origin(first_then_nothing)
    client = clients(server.url)
    await client.request("GET", "/")
    with pytest.raises(ClosedEarly, match="closed before the answer") as closed:
        await client.request("GET", "/")
    assert not closed.value.answer_started
    assert [(seen.connection, seen.number) for seen in server.seen] == [(0, 0), (0, 1), (1, 0)]
    with pytest.raises(ClosedEarly):  # a new connection's request is never sent again
        await client.request("GET", "/")
    assert len(server.seen) == 4


@pytest.mark.parametrize(
    "partial", [b"HTTP/1.1 200 O", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nonly"], ids=["head", "body"]
)
async def test_a_close_in_the_middle_of_the_answer_is_never_retried(
    origin: OriginFactory, clients: Callable[..., HttpClient], partial: bytes
) -> None:
    async def cut(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        if seen.number == 0:
            return await ok(seen, writer)
        writer.write(partial)
        return False

    server = await origin(cut)
    client = clients(server.url)
    await client.request("GET", "/")
    with pytest.raises(ClosedEarly, match="in the middle of the answer") as closed:
        await client.request("GET", "/")
    assert closed.value.answer_started
    assert len(server.seen) == 2


async def test_no_answer_in_time_is_a_timeout_and_the_connection_is_dropped(
    origin: OriginFactory, clients: Callable[..., HttpClient]
) -> None:
    async def never_on_the_first(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        if seen.connection == 0:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc")  # and the rest never comes
            await asyncio.sleep(3600)
        return await ok(seen, writer)

    server = await origin(never_on_the_first)
    client = clients(server.url, timeout=30)
    started = time.monotonic()
    with pytest.raises(TimedOut, match=r"no complete answer within 0\.2 s"):
        await client.request("GET", "/", timeout=0.2)  # the request's own timeout, not the client's
    assert time.monotonic() - started < 5
    assert (await client.request("GET", "/")).text == "1.0"  # on a new connection
    assert server.connections == 2


async def test_no_connection_in_time_is_a_timeout(clients: Callable[..., HttpClient]) -> None:
    with socket.socket() as listener, contextlib.ExitStack() as stack:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)  # never accepted: once its queue is full, connections hang in SYN_SENT
        port = listener.getsockname()[1]
        for _ in range(3):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        await asyncio.sleep(0.1)
        client = clients(f"http://127.0.0.1:{port}", timeout=30, connect_timeout=0.2)
        started = time.monotonic()
        with pytest.raises(TimedOut, match=r"no connection within 0\.2 s"):
            await client.request("GET", "/")
        assert time.monotonic() - started < 5


async def test_a_refused_connection(clients: Callable[..., HttpClient]) -> None:
    with socket.socket() as bound:  # bound, not listening: the kernel refuses
        bound.bind(("127.0.0.1", 0))
        client = clients(f"http://127.0.0.1:{bound.getsockname()[1]}")
        with pytest.raises(ConnectFailed, match="ConnectionRefusedError"):
            await client.request("GET", "/")


MALFORMED = {
    "version": b"HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n",
    "status": b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
    "no colon": b"HTTP/1.1 200 OK\r\nContent-Length 0\r\n\r\n",
    "space before the colon": b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
    "folded line": b"HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n",
    "length not a number": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    "two lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "head too large": b"HTTP/1.1 200 OK\r\nX-Big: " + b"x" * 70_000 + b"\r\n\r\n",
    "body too large": b"HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n",
    "chunks too large": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + b"x" * 1000 + b"\r\n2\r\n",
    "body to the close too large": b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 1001,
    "chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "chunk end": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
    "transfer coding": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "upgrade": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
}


@pytest.mark.parametrize("wire", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_or_oversized_answer_is_refused_and_its_connection_dropped(
    origin: OriginFactory, clients: Callable[..., HttpClient], wire: bytes
) -> None:
    async def bad_on_the_first(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        if seen.connection == 0:
            writer.write(wire)  # and the connection stays open: the client must leave it
            return True
        return await ok(seen, writer)

    server = await origin(bad_on_the_first)
    client = clients(server.url, max_body_bytes=1000)
    with pytest.raises(MalformedAnswer):
        await client.request("GET", "/")
    assert (await client.request("GET", "/")).text == "1.0"
    await until(lambda: server.ended == 1)


async def test_bytes_after_the_answer_leave_the_connection_unused(
    origin: OriginFactory, clients: Callable[..., HttpClient]
) -> None:
    async def two_answers_to_one(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(b"one") + (answer(b"extra") if seen.connection == 0 else b""))
        return True

    server = await origin(two_answers_to_one)
    client = clients(server.url)
    assert [(await client.request("GET", "/")).content for _ in range(2)] == [b"one", b"one"]
    assert server.connections == 2


async def test_aclose_closes_idle_and_busy_connections(
    origin: OriginFactory, clients: Callable[..., HttpClient]
) -> None:
    async def second_never(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        if seen.connection == 1:
            await asyncio.sleep(3600)
        return await ok(seen, writer)

    server = await origin(second_never)
    client = clients(server.url)
    await client.request("GET", "/")  # connection 0, now idle
    first = asyncio.ensure_future(client.request("GET", "/"))  # reuses it
    busy = asyncio.ensure_future(client.request("GET", "/"))  # connection 1, never answered
    assert (await first).text == "0.1"
    await until(lambda: len(server.seen) == 3)
    await client.aclose()
    with pytest.raises(HttpError, match="closed"):
        await busy
    await until(lambda: server.ended == 1)  # the idle one (the busy one's origin task sleeps on)
    with pytest.raises(HttpError, match="the client is closed"):
        await client.request("GET", "/")

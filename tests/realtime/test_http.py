"""HTTP/1.1 handling on the server port: keep-alive, pipelining, limits."""

from __future__ import annotations

import asyncio
import json
import re
import time
from urllib.parse import urlencode

import pytest

from opbx.protocol.signing import body_md5, request_signature
from opbx.realtime.server import RealtimeServer
from tests.helpers.apps import TEST_APP

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


def signed_target(method: str, path: str, body: bytes = b"") -> bytes:
    """``path?query`` signed for the test app, as a request line's target."""
    query = {"auth_key": TEST_APP.key, "auth_timestamp": str(int(time.time())), "auth_version": "1.0"}
    if body:
        query["body_md5"] = body_md5(body)
    query["auth_signature"] = request_signature(TEST_APP.secret, method, path, query)
    return f"{path}?{urlencode(query)}".encode()


def split_response(data: bytes) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """The status line, the headers (lower-case names) and what follows the header block."""
    head, _, rest = data.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(b":") for line in lines)}
    return status, headers, rest


@pytest.mark.parametrize("where", ["/", "/ready", "/accept-traffic", "channels", "nowhere", "metrics"])
async def test_head_is_answered_with_gets_headers_and_no_body_on_a_keep_alive_connection(
    server: RealtimeServer, where: str
) -> None:
    # RFC 9110 section 9.3.2: HEAD is GET without content. A body would be read as the next response.
    port = server.port
    if where == "metrics":
        assert server.metrics_port is not None
        port, path = server.metrics_port, b"/metrics"
    elif where == "channels":
        path = b"/apps/%s/channels" % TEST_APP.id.encode()
    elif where == "nowhere":
        path = b"/nowhere"
    else:
        path = where.encode()
    head_target = signed_target("HEAD", path.decode()) if where == "channels" else path
    get_target = signed_target("GET", path.decode()) if where == "channels" else path
    answer = await exchange(
        port,
        b"HEAD " + head_target + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET " + get_target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    head_status, head_headers, rest = split_response(answer)
    assert rest.startswith(b"HTTP/1.1 "), rest[:80]  # no body bytes between the two responses
    get_status, get_headers, body = split_response(rest)
    assert head_status == get_status
    assert head_headers[b"content-type"] == get_headers[b"content-type"]
    if where != "metrics":  # the metrics text changes between two scrapes (the request counters)
        assert head_headers[b"content-length"] == get_headers[b"content-length"] == str(len(body)).encode()
    assert int(head_headers[b"content-length"]) > 0
    assert head_headers[b"connection"] == b"keep-alive"


async def test_expect_100_continue_is_answered_before_the_body_is_sent(server: RealtimeServer) -> None:
    # RFC 9110 section 10.1.1: curl sends the header and waits (1 s) for 100 before the body.
    body = json.dumps({"name": "e", "channel": "c", "data": "{}"}).encode()
    path = f"/apps/{TEST_APP.id}/events"
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"POST " + signed_target("POST", path, body) + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(body)
    status, _, _ = split_response(await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5))
    assert status == b"HTTP/1.1 200 OK"
    writer.close()


async def test_expect_100_continue_over_the_body_limit_gets_413_not_100(server: RealtimeServer) -> None:
    answer = await exchange(
        server.port,
        b"POST /apps/100/events HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 999999999\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413")


async def test_100_continue_waits_for_the_responses_before_it(server: RealtimeServer) -> None:
    # Pipelined behind a GET: the 100 must not overtake the GET's response.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /apps/100/events HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    )
    status, headers, _ = split_response(await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5))
    assert status == b"HTTP/1.1 200 OK"
    assert await asyncio.wait_for(reader.readexactly(int(headers[b"content-length"])), 5) == b'{"ok":true}'
    assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5) == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"{}")
    status, _, _ = split_response(await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5))
    assert status == b"HTTP/1.1 401 Unauthorized"
    writer.close()

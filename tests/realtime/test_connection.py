"""Bad input on one socket gets its code and reason, and a log line naming it; every other socket goes on."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator

import pytest
from websockets.exceptions import ConnectionClosed

from opbx.protocol.signing import channel_auth
from opbx.realtime.server import RealtimeServer
from tests.conftest import ServerFactory
from tests.helpers.apps import TEST_APP
from tests.helpers.http_api import api_request
from tests.helpers.polling import eventually
from tests.helpers.pusher_client import PusherClient

pytestmark = pytest.mark.integration

KEY, SECRET = TEST_APP.key, TEST_APP.secret


@pytest.fixture
async def bystander(server: RealtimeServer) -> AsyncIterator[PusherClient]:
    """A well-behaved client on the same server, checked after every abuse."""
    client = await PusherClient.connect(server.port, KEY)
    await client.subscribe("private-calm", key=KEY, secret=SECRET)
    yield client
    body = json.dumps({"name": "still-there", "channel": "private-calm", "data": "{}"}).encode()
    status, _ = await api_request(server.port, "POST", f"/apps/{TEST_APP.id}/events", key=KEY, secret=SECRET, body=body)
    assert status == 200
    assert (await client.expect("still-there"))["channel"] == "private-calm"


async def test_malformed_json_gets_4200_and_the_socket_stays(server: RealtimeServer, bystander: PusherClient) -> None:
    client = await PusherClient.connect(server.port, KEY)
    await client.ws.send("{this is not json")
    error = await client.next()
    assert error["event"] == "pusher:error"
    assert error["data"]["code"] == 4200
    assert error["data"]["message"].startswith("Invalid JSON")
    assert (await client.subscribe("after"))["event"] == "pusher_internal:subscription_succeeded"


async def test_bad_input_is_logged_naming_the_socket(
    server: RealtimeServer, bystander: PusherClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Operators see which socket sent what was refused (the wording is the log's own)."""
    caplog.set_level(logging.INFO, logger="opbx")
    client = await PusherClient.connect(server.port, KEY)
    await client.ws.send("{this is not json")
    assert (await client.next())["data"]["code"] == 4200
    assert [record.levelno for record in caplog.records if client.socket_id in record.getMessage()] == [logging.INFO]


async def test_binary_frames_are_refused_and_the_socket_stays(server: RealtimeServer, bystander: PusherClient) -> None:
    client = await PusherClient.connect(server.port, KEY)
    await client.ws.send(b"\x00\x01\x02")
    error = await client.next()
    assert error["data"]["code"] == 4200
    assert "Binary" in error["data"]["message"]
    assert (await client.subscribe("after"))["event"] == "pusher_internal:subscription_succeeded"


async def test_a_frame_over_the_size_limit_closes_with_1009(server: RealtimeServer, bystander: PusherClient) -> None:
    client = await PusherClient.connect(server.port, KEY)
    await client.ws.send(json.dumps({"event": "client-big", "data": "x" * 100_000}))
    with pytest.raises(ConnectionClosed) as info:
        await client.next()
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1009
    assert info.value.rcvd.reason.startswith("Message larger than")


async def test_unknown_events_and_invalid_channels_get_their_errors(
    server: RealtimeServer, bystander: PusherClient
) -> None:
    client = await PusherClient.connect(server.port, KEY)
    await client.send("pusher:teleport", {})
    error = await client.next()
    assert error["data"]["code"] == 4200
    assert error["data"]["message"] == "Unsupported event: pusher:teleport"
    refused = await client.subscribe("no spaces allowed")
    assert refused["event"] == "pusher:subscription_error"
    assert refused["data"]["type"] == "InvalidChannel"


async def test_a_too_long_channel_name_is_echoed_whole_in_its_error(
    server: RealtimeServer, bystander: PusherClient
) -> None:
    client = await PusherClient.connect(server.port, KEY)
    name = "private-" + "x" * 300
    refused = await client.subscribe(name)
    assert refused["event"] == "pusher:subscription_error"
    assert refused["data"]["type"] == "InvalidChannel"
    assert refused["channel"] == name


async def test_forged_auth_is_refused_per_channel(server: RealtimeServer, bystander: PusherClient) -> None:
    client = await PusherClient.connect(server.port, KEY)
    forged = channel_auth(KEY, "guessed-secret", client.socket_id, "private-calm")
    await client.send("pusher:subscribe", {"channel": "private-calm", "auth": forged})
    refused = await client.next()
    assert refused["event"] == "pusher:subscription_error"
    assert refused["data"] == {"type": "AuthError", "error": "Invalid signature", "status": 401}
    # The forger receives nothing published on the channel it tried to join.
    await client.nothing_within(0.1)


async def test_a_flood_of_client_events_is_cut_at_the_rate_limit(
    server: RealtimeServer, bystander: PusherClient
) -> None:
    flooder, listener = await PusherClient.connect(server.port, KEY), await PusherClient.connect(server.port, KEY)
    for client in (flooder, listener):
        await client.subscribe("private-room", key=KEY, secret=SECRET)
    for index in range(50):
        await flooder.send("client-spam", {"i": index}, channel="private-room")
    errors = 0
    for _ in range(50 - 10):
        message = await flooder.expect("pusher:error")
        assert message["data"]["code"] == 4301
        assert message["data"]["message"].startswith("Client event rate limit exceeded")
        errors += 1
    assert errors == 40
    received = 0
    while True:
        try:
            await listener.expect("client-spam", timeout=0.3)
        except TimeoutError:
            break
        received += 1
    assert received == 10


async def raw_socket(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket opened by hand, past ``connection_established``: frames written as they are."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /app/{KEY}?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    await reader.readuntil(b"}")  # connection_established (data is one escaped string)
    await reader.readuntil(b"}")
    return reader, writer


def close_code_of(data: bytes) -> int:
    """The code of the close frame ``data`` starts with."""
    assert data[0] == 0x88
    return int.from_bytes(data[2:4], "big")


async def test_protocol_violations_close_with_1002(server: RealtimeServer, bystander: PusherClient) -> None:
    reader, writer = await raw_socket(server.port)
    writer.write(b"\x81\x02hi")  # an unmasked client frame
    assert close_code_of(await asyncio.wait_for(reader.read(), 5)) == 1002
    writer.close()


@pytest.mark.parametrize("code", [1005, 1006, 1015, 999, 2000, 5000])
async def test_a_close_code_that_may_not_be_sent_is_answered_with_1002_not_echoed(
    server: RealtimeServer, bystander: PusherClient, code: int
) -> None:
    # RFC 6455 section 7.4.1: 1005, 1006 and 1015 never go on the wire; the rest are unassigned.
    reader, writer = await raw_socket(server.port)
    writer.write(b"\x88\x82\x00\x00\x00\x00" + code.to_bytes(2, "big"))  # masked with a zero key
    assert close_code_of(await asyncio.wait_for(reader.read(), 5)) == 1002
    writer.close()


async def test_an_allowed_close_code_is_echoed(server: RealtimeServer) -> None:
    reader, writer = await raw_socket(server.port)
    writer.write(b"\x88\x82\x00\x00\x00\x00" + (4000).to_bytes(2, "big"))
    assert close_code_of(await asyncio.wait_for(reader.read(), 5)) == 4000
    writer.close()


async def test_garbage_instead_of_http_gets_400(server: RealtimeServer, bystander: PusherClient) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"\x16\x03\x01 definitely not HTTP\r\n\r\n")
    data = await asyncio.wait_for(reader.read(), 5)
    assert data.startswith(b"HTTP/1.1 400")
    writer.close()


def subscribed_raw_socket(port: int, channel: str) -> socket.socket:
    """A raw socket with a tiny receive buffer, upgraded and subscribed to ``channel``; it reads nothing itself."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    raw.sendall(
        f"GET /app/{KEY}?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    payload = json.dumps({"event": "pusher:subscribe", "data": {"channel": channel}}).encode()
    raw.sendall(bytes((0x81, 0x80 | len(payload))) + b"\x00\x00\x00\x00" + payload)  # masked with a zero key
    return raw


async def test_a_client_that_stops_reading_is_dropped_alone(make_server: ServerFactory) -> None:
    server = await make_server(max_backpressure_bytes=64 * 1024)
    healthy = await PusherClient.connect(server.port, KEY)
    await healthy.subscribe("firehose")
    stuck = subscribed_raw_socket(server.port, "firehose")
    await eventually(lambda: subscriptions(server.port, "firehose", 2), "the stuck socket is subscribed")
    assert server.connection_count == 2
    # Enough to fill the kernel's send buffer (up to 4 MB here) and then our 64 KB bound.
    event = {"name": "chunk", "channel": "firehose", "data": "x" * 10_000}
    body = json.dumps({"batch": [event] * 10}).encode()
    path = f"/apps/{TEST_APP.id}/batch_events"
    for _ in range(60):
        status, _ = await api_request(server.port, "POST", path, key=KEY, secret=SECRET, body=body)
        assert status == 200
        for _ in range(10):
            assert (await healthy.expect("chunk"))["channel"] == "firehose"
    assert server.connection_count == 1  # the stuck socket was dropped, the healthy one served
    stuck.close()


async def subscriptions(port: int, channel: str, count: int) -> bool:
    """Does the channel have ``count`` subscribers, by the HTTP API?"""
    path = f"/apps/{TEST_APP.id}/channels/{channel}"
    status, body = await api_request(port, "GET", path, key=KEY, secret=SECRET, params={"info": "subscription_count"})
    assert status == 200, body
    return bool(body.get("subscription_count") == count)


def server_frames(data: bytes) -> list[tuple[int, bytes]]:
    """The (opcode, payload) of each whole unmasked frame in ``data``, a server's stream after the 101."""
    frames, position = [], 0
    while len(data) - position >= 2:
        length, header = data[position + 1] & 0x7F, 2
        if length == 126:
            length, header = int.from_bytes(data[position + 2 : position + 4], "big"), 4
        elif length == 127:
            length, header = int.from_bytes(data[position + 2 : position + 10], "big"), 10
        end = position + header + length
        if end > len(data):
            break
        frames.append((data[position] & 0x0F, data[position + header : end]))
        position = end
    return frames


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    """What the server sends up to and including ``marker``."""
    sock.settimeout(10)
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before {marker!r}"
        data += chunk
    return data


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes: EOF, or a reset (what came before it is kept)."""
    sock.settimeout(10)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


async def test_a_close_the_server_starts_reaches_a_client_still_sending(make_server: ServerFactory) -> None:
    # Closing TCP with the client's input unread makes the kernel reset the connection and
    # drop what it has not sent yet: the close frame. The server lingers to avoid that.
    server = await make_server(max_backpressure_bytes=64 * 1024)
    stuck = subscribed_raw_socket(server.port, "firehose")
    start = await asyncio.to_thread(read_until, stuck, b"subscription_succeeded")
    # Published until the server drops the client that does not read (4100): the close
    # frame then waits behind megabytes in the server's buffers.
    event = {"name": "chunk", "channel": "firehose", "data": "x" * 10_000}
    body = json.dumps({"batch": [event] * 10}).encode()
    while server.connection_count:
        status, _ = await api_request(
            server.port, "POST", f"/apps/{TEST_APP.id}/batch_events", key=KEY, secret=SECRET, body=body
        )
        assert status == 200
    stuck.sendall(b"\x89\x80\x00\x00\x00\x00" * 100)  # the client goes on sending (pings) before it reads
    data = await asyncio.to_thread(read_until_closed, stuck)
    stuck.close()
    frames = server_frames((start + data).partition(b"\r\n\r\n")[2])
    assert frames[-1][0] == 0x8, f"no close frame among the {len(frames)} frames received"
    assert int.from_bytes(frames[-1][1][:2], "big") == 4100


@pytest.mark.parametrize("answer", ["close frame", "eof"])
async def test_a_lingering_close_ends_when_the_client_answers(server: RealtimeServer, answer: str) -> None:
    reader, writer = await raw_socket(server.port)
    (connection,) = server.namespaces[TEST_APP.id].sockets.values()
    connection.close(4200, "Server is shutting down")
    data = await asyncio.wait_for(reader.read(), 5)  # up to the EOF of the server's half-close
    assert close_code_of(data) == 4200
    assert not connection.transport.is_closing()  # still reading, waiting for the client's answer
    if answer == "eof":
        writer.write_eof()
    else:
        writer.write(b"\x88\x82\x00\x00\x00\x00" + (4200).to_bytes(2, "big"))
    await eventually(connection.transport.is_closing, "the server closed the socket")
    writer.close()

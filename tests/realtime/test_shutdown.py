"""Graceful shutdown: SIGTERM closes every client with 4200 and the process exits in its grace."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
from pathlib import Path

import pytest
import websockets

from opbx.protocol.channels import ChannelName
from opbx.realtime.server import RealtimeServer
from tests.conftest import ServerFactory
from tests.helpers.apps import TEST_APP
from tests.helpers.nodes import free_port
from tests.helpers.pusher_client import PusherClient, told_to_reconnect

pytestmark = pytest.mark.integration

GRACE = 2.0


async def test_sigterm_closes_every_client_with_4200_and_exits_in_the_grace(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "opbx.toml"
    config.write_text(f'[server]\nshutdown_grace = {GRACE}\n\n[[apps]]\nid = "1"\nkey = "k"\nsecret = "s"\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPBX_")}
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "opbx.cli", "realtime", "--port", str(port), "--metrics-port", "0"],
        *["--config", str(config)],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
    )
    try:
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert f"ws://127.0.0.1:{port}" in banner
        clients = [await PusherClient.connect(port, "k") for _ in range(3)]
        await clients[0].subscribe("orders")
        process.send_signal(signal.SIGTERM)
        for client in clients:
            error, code = await told_to_reconnect(client)
            assert code == 4200
            assert error == {"code": 4200, "message": "Server is shutting down"}
        # Clients told to reconnect find the port closed (a load balancer tries another node).
        with pytest.raises(ConnectionRefusedError):
            await websockets.connect(f"ws://127.0.0.1:{port}/app/k?protocol=7")
        assert await asyncio.wait_for(process.wait(), GRACE + 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_stop_releases_every_socket_before_it_returns(server: RealtimeServer) -> None:
    client = await PusherClient.connect(server.port, TEST_APP.key)
    await client.subscribe("orders")
    assert (await server.adapter.channel(TEST_APP.id, ChannelName("orders"))).subscription_count == 1
    await server.stop()
    _, code = await told_to_reconnect(client)
    assert code == 4200
    assert server.connection_count == 0
    assert await server.adapter.channels(TEST_APP.id) == {}  # pending releases were carried out


async def test_an_upgrade_already_on_its_way_during_shutdown_gets_4200(server: RealtimeServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # the connection is established and served
        assert (await asyncio.wait_for(reader.readuntil(b'{"ok":true}'), 5)).startswith(b"HTTP/1.1 200")
        server.begin_shutdown()
        writer.write(
            f"GET /app/{TEST_APP.key}?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        answer = await asyncio.wait_for(reader.read(), 5)  # until the server closes
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 101")
    error = json.dumps({"event": "pusher:error", "data": {"code": 4200, "message": "Server is shutting down"}})
    assert error.replace(" ", "").encode() in answer.replace(b" ", b"")
    assert b"\x88" + bytes([2 + len("Server is shutting down")]) + (4200).to_bytes(2, "big") in answer


async def test_sigterm_logs_how_many_sockets_it_closed_and_when_it_finished(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "opbx.toml"
    config.write_text(f'[server]\nshutdown_grace = {GRACE}\n\n[[apps]]\nid = "1"\nkey = "k"\nsecret = "s"\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPBX_")}
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "opbx.cli", "realtime", "--port", str(port), "--no-metrics", "--log-format", "json"],
        *["--config", str(config)],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        assert process.stdout is not None
        assert f"ws://127.0.0.1:{port}" in (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        clients = [await PusherClient.connect(port, "k") for _ in range(2)]
        process.send_signal(signal.SIGTERM)
        for client in clients:
            assert (await told_to_reconnect(client))[1] == 4200
        _, stderr = await asyncio.wait_for(process.communicate(), GRACE + 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    entries = [json.loads(line) for line in stderr.decode().splitlines()]
    said = [(entry["logger"], entry["message"]) for entry in entries]
    closing = said.index(("opbx.realtime", "shutting down: closing 2 WebSocket connections with 4200 (reconnect now)"))
    assert said.index(("opbx", "shutting down")) < closing
    finished = entries[-1]
    assert finished["logger"] == "opbx.realtime"
    assert re.fullmatch(r"shutdown finished in \d+\.\d\ds: 2 WebSocket connections closed", finished["message"])
    assert entries[closing]["sockets"] == finished["sockets"] == 2
    assert isinstance(finished["seconds"], float)


async def test_stop_ends_the_lingering_close_of_a_client_that_never_answers(make_server: ServerFactory) -> None:
    # The 4200 close lingers for the client's answer; stopping waits for it within the
    # grace, then closes the socket: nothing is left open when the loop closes.
    server = await make_server(shutdown_grace=0.5)
    silent = socket.create_connection(("127.0.0.1", server.port))
    try:
        silent.sendall(
            f"GET /app/{TEST_APP.key}?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        await asyncio.to_thread(silent.recv, 65536)  # the 101 and the greeting
        (connection,) = server.namespaces[TEST_APP.id].sockets.values()
        await server.stop()
        assert connection.transport.is_closing()
    finally:
        silent.close()

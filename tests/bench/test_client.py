"""The lean client against a real server: connect, subscribe, count, answer pings."""

from __future__ import annotations

import asyncio

import pytest

from opbx.bench.client import ClientError, connect
from opbx.protocol.session import Session
from opbx.realtime.server import RealtimeServer
from tests.conftest import ServerFactory
from tests.helpers.apps import TEST_APP
from tests.helpers.clock import ManualClock
from tests.helpers.http_api import api_request


async def _trigger(server: RealtimeServer, channel: str, data: str) -> None:
    body = f'{{"name":"e","channel":"{channel}","data":"{data}"}}'.encode()
    status, _ = await api_request(
        server.port, "POST", f"/apps/{TEST_APP.id}/events", key=TEST_APP.key, secret=TEST_APP.secret, body=body
    )
    assert status == 200


async def test_connects_subscribes_and_counts(server: RealtimeServer) -> None:
    client = await connect("127.0.0.1", server.port, TEST_APP.key)
    assert client.socket_id
    await client.subscribe("news")
    client.count(b"~obmark", keep_chunks=True)
    for _ in range(3):
        await _trigger(server, "news", "~obmark")
    await _trigger(server, "news", "nothing")
    for _ in range(100):
        if client.delivered == 3:
            break
        await asyncio.sleep(0.01)
    assert client.delivered == 3
    assert client.chunks
    assert b"nothing" in b"".join(chunk for _, chunk in client.chunks)
    client.close()
    await client.lost


async def test_unknown_key_is_refused(server: RealtimeServer) -> None:
    with pytest.raises(ClientError, match="4001"):
        await connect("127.0.0.1", server.port, "no-such-key")


@pytest.mark.parametrize("counting", [False, True])
async def test_answers_pusher_pings_in_both_modes(
    make_server: ServerFactory, monkeypatch: pytest.MonkeyPatch, counting: bool
) -> None:
    touched = asyncio.Event()
    touch = Session.touch

    def counted(session: Session, now: float) -> None:
        touched.set()
        touch(session, now)

    monkeypatch.setattr(Session, "touch", counted)
    clock = ManualClock()
    server = await make_server(clock=clock)
    client = await connect("127.0.0.1", server.port, TEST_APP.key)
    if counting:
        client.count(b"~obmark")
    for _ in range(3):
        touched.clear()
        clock.advance(server.config.activity_timeout)
        server.sweep()  # pusher:ping
        await asyncio.wait_for(touched.wait(), 5)  # the pong
        clock.advance(server.config.pong_timeout)
        server.sweep()  # would close the socket with 4201 had no pong come
    await asyncio.sleep(0.05)
    assert not client.lost.done()
    assert client.close_code is None
    client.close()

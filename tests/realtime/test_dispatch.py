"""The one dispatcher, with no port: a connection's steps are carried out in the order they came."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, cast

import pytest

from opbx.adapters.local import LocalAdapter
from opbx.protocol.app import AppId
from opbx.protocol.channels import ChannelName
from opbx.protocol.session import Session, new_socket_id
from opbx.realtime.apps import AppRegistry
from opbx.realtime.connection import Lingering, Open, WebSocketConnection
from opbx.realtime.dispatch import Dispatcher
from opbx.realtime.fanout import WriteCoalescer
from opbx.realtime.membership import Membership
from opbx.realtime.namespace import Namespace
from opbx.realtime.node import Node
from opbx.realtime.webhook_sink import NoWebhooks
from tests.helpers.apps import TEST_APP
from tests.helpers.clock import ManualClock

NEWS = ChannelName("news")


class Transport:
    """What the socket wrote, and whether it was closed; it answers as a transport that keeps up."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closing = False

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        self.closing = True

    abort = close

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        pass

    def received(self) -> list[str]:
        """The client's view: each text frame's Pusher event, and ``close <code>``."""
        events, data, at = [], bytes(self.data), 0
        while at < len(data):
            opcode, length = data[at] & 0x0F, data[at + 1] & 0x7F
            at += 2
            if length >= 126:
                size = 2 if length == 126 else 8
                length, at = int.from_bytes(data[at : at + size]), at + size
            payload, at = data[at : at + length], at + length
            events.append(json.loads(payload)["event"] if opcode == 1 else f"close {int.from_bytes(payload[:2])}")
        return events


@dataclass
class Harness:
    adapter: LocalAdapter
    dispatcher: Dispatcher
    fanout: WriteCoalescer
    clock: ManualClock
    tasks: set[asyncio.Task[None]]
    lingering: Lingering

    def connect(self) -> tuple[WebSocketConnection, Transport]:
        """A socket past the handshake: what the listener does with an admitted upgrade."""
        transport = Transport()
        connection = WebSocketConnection(
            self.dispatcher,
            cast(asyncio.Transport, transport),
            65536,
            clock=self.clock,
            fanout=self.fanout,
            lingering=self.lingering,
        )
        connection.session = Session(TEST_APP, new_socket_id(), self.clock.monotonic())
        self.dispatcher.perform(connection, [Open()])
        return connection, transport

    def client_sends(self, connection: WebSocketConnection, event: str, **data: object) -> None:
        """What the connection does with a text message: the session's answer goes to the dispatcher."""
        assert connection.session is not None
        text = json.dumps({"event": event, "data": data})
        self.dispatcher.perform(connection, connection.session.receive(text, self.clock.monotonic()))

    async def settle(self) -> None:
        """Wait for every step task, then write what they queued."""
        while self.tasks:
            await asyncio.gather(*self.tasks)
        self.fanout.flush()


@pytest.fixture
async def harness() -> Harness:
    adapter, webhooks, clock = LocalAdapter(), NoWebhooks(), ManualClock()
    namespaces: dict[AppId, Namespace[WebSocketConnection]] = {TEST_APP.id: Namespace(TEST_APP)}
    tasks: set[asyncio.Task[None]] = set()

    def spawn(coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    fanout = WriteCoalescer(asyncio.get_running_loop())
    node = Node(
        AppRegistry([TEST_APP]),
        namespaces,
        adapter,
        webhooks,
        fanout,
        written=lambda app_id, received: None,
        spawn=spawn,
        cache_ttl=60,
    )
    await adapter.start(node)
    dispatcher = Dispatcher(Membership(namespaces, adapter, webhooks), clock, spawn)
    return Harness(adapter, dispatcher, fanout, clock, tasks, Lingering())


async def test_an_answer_waits_behind_the_greeting_that_needs_the_adapter(harness: Harness) -> None:
    connection, transport = harness.connect()
    harness.client_sends(connection, "pusher:ping")  # answered at once, were nothing ahead of it
    assert connection.backlog is not None
    await harness.settle()
    assert transport.received() == ["pusher:connection_established", "pusher:pong"]
    assert connection.backlog is None


async def test_a_ping_behind_a_subscribe_is_answered_after_the_subscription(harness: Harness) -> None:
    connection, transport = harness.connect()
    await harness.settle()
    harness.client_sends(connection, "pusher:subscribe", channel=NEWS)
    harness.client_sends(connection, "pusher:ping")
    await harness.settle()
    assert transport.received()[1:] == ["pusher_internal:subscription_succeeded", "pusher:pong"]
    harness.client_sends(connection, "pusher:unsubscribe", channel=NEWS)
    await harness.settle()
    assert await harness.adapter.channels(TEST_APP.id) == {}


async def test_a_socket_closed_mid_join_is_released_after_its_pending_steps(harness: Harness) -> None:
    connection, transport = harness.connect()
    await harness.settle()
    harness.client_sends(connection, "pusher:subscribe", channel=NEWS)
    connection.close(4009, "gone")  # before the join's task has run
    await harness.settle()
    assert transport.received() == ["pusher:connection_established", "close 4009"]
    assert await harness.adapter.channels(TEST_APP.id) == {}
    assert await harness.adapter.add_connection(TEST_APP.id, new_socket_id()) == 1  # its count was released
    assert connection.released


async def test_the_heartbeat_pings_a_silent_socket_then_closes_it_with_4201(harness: Harness) -> None:
    _, transport = harness.connect()
    await harness.settle()
    harness.clock.advance(120)
    harness.dispatcher.sweep()
    await harness.settle()
    assert transport.received()[-1] == "pusher:ping"
    harness.clock.advance(30)
    harness.dispatcher.sweep()
    await harness.settle()
    assert transport.received()[-2:] == ["pusher:error", "close 4201"]

"""Presence and webhooks under churn: three real nodes, clients coming and going on all of
them, one node killed without goodbye. Every roster ends exact, and the app's endpoint gets
exactly one ``member_added`` / ``member_removed`` / ``channel_occupied`` / ``channel_vacated``
per real, cluster-wide transition: none twice, none missing. (Each node sends what it
observed, so requests from different nodes may arrive in any order; ``time_ms`` says when.)"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.apps import TEST_APP
from tests.helpers.http_api import api_request
from tests.helpers.nodes import Node
from tests.helpers.pusher_client import PusherClient
from tests.helpers.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration

KEY, SECRET = TEST_APP.key, TEST_APP.secret
PRESENCE = ("presence-churn-0", "presence-churn-1")
PUBLIC = "churn-public"
USERS = ("alice", "bob", "carol", "dave", "erin")
Transition = tuple[str, str, str | None]
"""A webhook as (name, channel, user_id or None)."""


@dataclass
class Socket:
    """One test client: the node it is on, its user, its channels and the roster it sees."""

    node: int
    user: str
    client: PusherClient
    channels: set[str] = field(default_factory=set)
    rosters: dict[str, set[str]] = field(default_factory=dict)

    def see(self, message: dict[str, Any]) -> None:
        channel, event = message.get("channel"), message["event"]
        if channel not in self.rosters:
            return
        if event == "pusher_internal:member_added":
            self.rosters[channel].add(json.loads(message["data"])["user_id"])
        elif event == "pusher_internal:member_removed":
            self.rosters[channel].discard(json.loads(message["data"])["user_id"])

    async def drain(self) -> None:
        """Read what the server has sent so far (until it is quiet for a moment)."""
        while True:
            try:
                self.see(await self.client.next(timeout=0.3))
            except TimeoutError:
                return


@dataclass
class Model:
    """What the cluster should report: the transitions as the sockets come and go."""

    sockets: list[Socket] = field(default_factory=list)
    expected: list[Transition] = field(default_factory=list)

    def members(self, channel: str) -> set[str]:
        return {s.user for s in self.sockets if channel in s.channels}

    def occupied(self, channel: str) -> bool:
        return any(channel in s.channels for s in self.sockets)

    def join(self, socket: Socket, channel: str) -> None:
        if not self.occupied(channel):
            self.expected.append(("channel_occupied", channel, None))
        if channel.startswith("presence-") and socket.user not in self.members(channel):
            self.expected.append(("member_added", channel, socket.user))
        socket.channels.add(channel)

    def drop(self, gone: list[Socket]) -> None:
        """Sockets gone (closed, or their node killed): the members and channels they leave."""
        channels = {channel for s in gone for channel in s.channels}
        before = {channel: self.members(channel) for channel in channels}
        self.sockets = [s for s in self.sockets if s not in gone]
        for channel in sorted(channels):
            if channel.startswith("presence-"):
                for user in sorted(before[channel] - self.members(channel)):
                    self.expected.append(("member_removed", channel, user))
            if not self.occupied(channel):
                self.expected.append(("channel_vacated", channel, None))


def transitions(receiver: WebhookReceiver) -> list[Transition]:
    return [
        (event["name"], event["channel"], event.get("user_id"))
        for event in receiver.accepted_events()
        if event["name"] in ("channel_occupied", "channel_vacated", "member_added", "member_removed")
    ]


async def settle(receiver: WebhookReceiver, model: Model) -> None:
    """Wait for the endpoint to have as many transitions as the model, then a moment for extras."""
    await receiver.wait_for(lambda r: len(transitions(r)) >= len(model.expected), timeout=20)
    await asyncio.sleep(0.5)
    assert Counter(transitions(receiver)) == Counter(model.expected)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = await WebhookReceiver().start()
    yield receiver
    await receiver.stop()


async def test_rosters_and_webhooks_stay_exact_under_churn_and_a_killed_node(
    tmp_path: Path, receiver: WebhookReceiver, redis_url: str, redis_prefix: str
) -> None:
    prefix = redis_prefix
    nodes = [Node(tmp_path, redis_url, prefix, node_timeout=2.0, webhook_url=receiver.url).start() for _ in range(3)]
    model = Model()
    rng = random.Random(7)

    async def open_socket(node: int, user: str) -> Socket:
        socket = Socket(node, user, await PusherClient.connect(nodes[node].port, KEY))
        model.sockets.append(socket)
        return socket

    async def join(socket: Socket, channel: str) -> None:
        if channel.startswith("presence-"):
            answer = await socket.client.subscribe(
                channel, secret=SECRET, key=KEY, channel_data={"user_id": socket.user}
            )
            socket.rosters[channel] = set(json.loads(answer["data"])["presence"]["ids"])
        else:
            await socket.client.subscribe(channel)
        model.join(socket, channel)

    async def close(sockets: list[Socket]) -> None:
        for socket in sockets:
            await socket.client.close()
        model.drop(sockets)

    try:
        # Churn: sockets of the five users open on all three nodes, join, and close again.
        for _ in range(40):
            if model.sockets and rng.random() < 0.35:
                await close([rng.choice(model.sockets)])
                continue
            socket = await open_socket(rng.randrange(3), rng.choice(USERS))
            for channel in rng.sample([*PRESENCE, PUBLIC], rng.randint(1, 3)):
                await join(socket, channel)
        # Make sure node 2 has members that are only there, and one that is also elsewhere.
        for user, node in (("carol", 2), ("bob", 2), ("bob", 0), ("dave", 1)):
            socket = await open_socket(node, user)
            for channel in (*PRESENCE, PUBLIC):
                await join(socket, channel)
        await settle(receiver, model)

        # Node 2 dies without a goodbye: its members leave every roster once, from the reaper.
        nodes[2].kill()
        doomed = [s for s in model.sockets if s.node == 2]
        model.drop(doomed)
        await settle(receiver, model)

        for channel in PRESENCE:
            status, answer = await api_request(
                nodes[0].port, "GET", f"/apps/{TEST_APP.id}/channels/{channel}/users", key=KEY, secret=SECRET
            )
            assert status == 200
            assert {user["id"] for user in answer["users"]} == model.members(channel)
        for socket in model.sockets:
            await socket.drain()
            for channel, roster in socket.rosters.items():
                assert roster == model.members(channel), (socket.user, socket.node, channel)

        # Everyone else leaves: every channel is vacated, once.
        await close(list(model.sockets))
        await settle(receiver, model)
        assert not any(model.occupied(channel) for channel in (*PRESENCE, PUBLIC))
        assert all(request.signed_by(SECRET) for request in receiver.received)
    finally:
        for socket in model.sockets:
            await socket.client.close()
        for process in nodes:
            process.stop()

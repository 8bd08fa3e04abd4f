"""Membership rules on the local adapter, with no port: joins, presence, counts, sign-in, release."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from opbx.adapters.local import LocalAdapter
from opbx.protocol.app import App, AppId
from opbx.protocol.channels import ChannelName, channel_type, user_channel, watchlist_channel
from opbx.protocol.errors import PusherError
from opbx.protocol.presence import PresenceMember, SignedInUser, UserId
from opbx.protocol.session import ClientEvent, Join, Leave, Session, SignIn, new_socket_id
from opbx.protocol.webhooks import WebhookEvent, WebhookKind
from opbx.realtime.membership import Membership
from opbx.realtime.namespace import Namespace
from opbx.realtime.webhook_sink import NoWebhooks, WebhookSink
from tests.helpers.apps import SMALL_APP, TEST_APP
from tests.helpers.recording_handler import RecordingHandler

ROOM = ChannelName("presence-room")
NEWS = ChannelName("news")


class Transport:
    def write(self, data: bytes) -> None:
        raise AssertionError("membership writes through send(), never to the transport")


class FakeSocket:
    """A socket as membership sees it; records what it was sent and how it was failed."""

    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.transport = Transport()
        self.user: SignedInUser | None = None
        self.closed = False
        self.sent: list[dict[str, Any]] = []
        self.errors: list[int] = []

    def send(self, message: bytes) -> None:
        self.sent.append(json.loads(message))

    def fail(self, error: PusherError) -> None:
        self.errors.append(error.code)
        self.closed = self.closed or error.closes

    def events(self) -> list[str]:
        return [message["event"] for message in self.sent]


class RecordingSink(NoWebhooks):
    """A webhook sink that keeps what it is given (and, like :class:`NoWebhooks`, counts nothing)."""

    def __init__(self) -> None:
        self.emitted: list[tuple[AppId, WebhookEvent]] = []

    def emit(self, app: App, event: WebhookEvent) -> None:
        self.emitted.append((app.id, event))

    def kinds(self) -> list[WebhookKind]:
        return [event.kind for _, event in self.emitted]


_: type[WebhookSink] = RecordingSink


@dataclasses.dataclass
class Node:
    """One node's membership over a local adapter, and what it published and reported."""

    adapter: LocalAdapter
    published: RecordingHandler
    webhooks: RecordingSink
    namespaces: dict[AppId, Namespace[FakeSocket]]
    membership: Membership[FakeSocket]

    async def open(self, app: App = TEST_APP) -> tuple[FakeSocket, Session]:
        socket, session = FakeSocket(), Session(app, new_socket_id(), 0.0)
        await self.membership.open(socket, session)
        return socket, session

    async def join(self, socket: FakeSocket, session: Session, channel: str, user: str | None = None) -> None:
        name = ChannelName(channel)
        member = None if user is None else PresenceMember(UserId(user), {"name": user})
        await self.membership.join(socket, session, Join(name, channel_type(name), member))

    async def close(self, socket: FakeSocket, session: Session) -> None:
        """What the dispatcher does when a socket closes: detach at once, release in its task."""
        socket.closed = True
        self.membership.detach(socket, session)
        await self.membership.release(socket, session)

    def watchlist_news(self, user: str) -> list[str]:
        """The names (online, offline) of the news published to ``user``'s watchers."""
        return [
            news["name"]
            for _, channel, message, _ in self.published.delivered
            if channel == watchlist_channel(user)
            for news in json.loads(json.loads(message)["data"])["events"]
        ]

    def deliveries(self, channel: str) -> list[tuple[str, str | None]]:
        """(event, socket excluded) of each message published to ``channel``."""
        return [
            (json.loads(message)["event"], except_socket)
            for _, published_to, message, except_socket in self.published.delivered
            if published_to == channel
        ]


@pytest.fixture
async def node() -> Node:
    adapter, handler, sink = LocalAdapter(), RecordingHandler(), RecordingSink()
    await adapter.start(handler)
    namespaces: dict[AppId, Namespace[FakeSocket]] = {app.id: Namespace(app) for app in (TEST_APP, SMALL_APP)}
    return Node(adapter, handler, sink, namespaces, Membership(namespaces, adapter, sink))


async def test_an_opened_socket_is_greeted_counted_and_indexed(node: Node) -> None:
    socket, session = await node.open()
    assert socket.events() == ["pusher:connection_established"]
    assert json.loads(socket.sent[0]["data"])["socket_id"] == session.socket_id
    namespace = node.namespaces[TEST_APP.id]
    assert namespace.sockets == {session.socket_id: socket}
    assert namespace.counters.connections_opened == 1
    assert node.membership.count == 1
    assert list(node.membership.connected()) == [socket]


async def test_a_socket_over_the_apps_quota_is_refused_with_4004_and_not_indexed(node: Node) -> None:
    for _ in range(SMALL_APP.limits.max_connections or 0):
        await node.open(SMALL_APP)
    socket, _ = await node.open(SMALL_APP)
    assert (socket.errors, socket.sent) == ([4004], [])
    assert node.membership.count == SMALL_APP.limits.max_connections


async def test_a_node_shutting_down_tells_a_socket_still_opening_to_reconnect(node: Node) -> None:
    node.membership.closing = True
    socket, _ = await node.open()
    assert socket.errors == [4200]
    assert node.membership.count == 0


async def test_joins_answer_index_and_report_only_the_channels_first_subscriber(node: Node) -> None:
    ann, ann_session = await node.open()
    bob, bob_session = await node.open()
    await node.join(ann, ann_session, NEWS)
    await node.join(bob, bob_session, NEWS)
    assert ann.events()[-1] == bob.events()[-1] == "pusher_internal:subscription_succeeded"
    assert node.namespaces[TEST_APP.id].channels[NEWS] == {ann, bob}
    assert (await node.adapter.channel(TEST_APP.id, NEWS)).subscription_count == 2
    assert node.webhooks.kinds() == [WebhookKind.CHANNEL_OCCUPIED]
    await node.join(ann, ann_session, NEWS)  # again: answered, not counted twice
    assert (await node.adapter.channel(TEST_APP.id, NEWS)).subscription_count == 2


async def test_presence_announces_a_users_first_socket_and_last_only(node: Node) -> None:
    ann, ann_session = await node.open()
    await node.join(ann, ann_session, ROOM, user="ann")
    roster = json.loads(ann.sent[-1]["data"])["presence"]
    assert roster == {"ids": ["ann"], "hash": {"ann": {"name": "ann"}}, "count": 1}
    assert node.deliveries(ROOM) == [("pusher_internal:member_added", ann_session.socket_id)]  # not to Ann

    bob, bob_session = await node.open()
    bob_tab, bob_tab_session = await node.open()
    await node.join(bob, bob_session, ROOM, user="bob")
    await node.join(bob_tab, bob_tab_session, ROOM, user="bob")
    assert json.loads(bob_tab.sent[-1]["data"])["presence"]["count"] == 2
    assert [event for event, _ in node.deliveries(ROOM)].count("pusher_internal:member_added") == 2

    await node.membership.leave(bob, bob_session, Leave(ROOM, PresenceMember(UserId("bob"), None)))
    assert "pusher_internal:member_removed" not in [event for event, _ in node.deliveries(ROOM)]
    await node.close(bob_tab, bob_tab_session)
    assert node.deliveries(ROOM)[-1] == ("pusher_internal:member_removed", None)
    assert await node.adapter.members(TEST_APP.id, ROOM) == {"ann": {"name": "ann"}}
    added = [e.user_id for _, e in node.webhooks.emitted if e.kind is WebhookKind.MEMBER_ADDED]
    removed = [e.user_id for _, e in node.webhooks.emitted if e.kind is WebhookKind.MEMBER_REMOVED]
    assert (added, removed) == (["ann", "bob"], ["bob"])


async def test_a_full_presence_channel_refuses_new_users_but_not_their_tabs(node: Node) -> None:
    sockets = [await node.open(SMALL_APP) for _ in range(4)]
    for (socket, session), user in zip(sockets, ["1", "2", "3", "2"], strict=True):
        await node.join(socket, session, ROOM, user=user)
    refused = sockets[2][0].sent[-1]
    assert refused["event"] == "pusher:subscription_error"
    assert (refused["data"]["type"], refused["data"]["status"]) == ("LimitReached", 4100)
    assert sockets[3][0].events()[-1] == "pusher_internal:subscription_succeeded"
    assert ROOM not in sockets[2][1].channels
    assert sockets[2][0] not in node.namespaces[SMALL_APP.id].channels[ROOM]


async def test_subscription_counts_go_to_the_channel_and_the_webhooks_when_enabled(node: Node) -> None:
    (ann, ann_session), (bob, bob_session) = await node.open(SMALL_APP), await node.open(SMALL_APP)
    await node.join(ann, ann_session, NEWS)
    await node.join(bob, bob_session, NEWS)
    await node.membership.leave(bob, bob_session, Leave(NEWS, None))
    counts = [
        json.loads(json.loads(message)["data"])["subscription_count"]
        for _, channel, message, _ in node.published.delivered
        if channel == NEWS
    ]
    assert counts == [1, 2, 1]
    reported = [e.subscription_count for _, e in node.webhooks.emitted if e.kind is WebhookKind.SUBSCRIPTION_COUNT]
    assert reported == [1, 2, 1]
    plain, plain_session = await node.open(TEST_APP)  # subscription counts off
    await node.join(plain, plain_session, NEWS)
    assert [channel for _, channel, _, _ in node.published.delivered].count(NEWS) == 3


async def test_a_cache_channel_replays_its_last_event_or_reports_a_miss(node: Node) -> None:
    channel = "cache-prices"
    ann, ann_session = await node.open()
    await node.join(ann, ann_session, channel)
    assert ann.events()[-2:] == ["pusher_internal:subscription_succeeded", "pusher:cache_miss"]
    assert WebhookKind.CACHE_MISS in node.webhooks.kinds()
    last = json.dumps({"event": "price", "channel": channel, "data": "7"}).encode()
    await node.adapter.cache_set(TEST_APP.id, ChannelName(channel), last, 60)
    bob, bob_session = await node.open()
    await node.join(bob, bob_session, channel)
    assert bob.events()[-2:] == ["pusher_internal:subscription_succeeded", "price"]


async def test_a_join_on_a_socket_that_closed_meanwhile_does_nothing(node: Node) -> None:
    ann, ann_session = await node.open()
    ann.closed = True
    await node.join(ann, ann_session, NEWS)
    assert (await node.adapter.channel(TEST_APP.id, NEWS)).subscription_count == 0
    assert NEWS not in node.namespaces[TEST_APP.id].channels


async def test_sign_in_answers_indexes_the_user_and_tells_watchers(node: Node) -> None:
    watcher, watcher_session = await node.open()
    ann, ann_session = await node.open()
    watcher_user = SignedInUser(UserId("w"), '{"id":"w"}', (UserId("ann"), UserId("cy")))
    await node.membership.sign_in(watcher, watcher_session, SignIn(watcher_user))
    assert watcher.events()[-1] == "pusher:signin_success"  # nobody on its watchlist is online
    await node.membership.sign_in(ann, ann_session, SignIn(SignedInUser(UserId("ann"), '{"id":"ann"}')))
    assert ann.events()[-1] == "pusher:signin_success"
    assert ann.user is not None
    namespace = node.namespaces[TEST_APP.id]
    assert namespace.users[UserId("ann")] == {ann}
    assert ann in namespace.channels[user_channel("ann")]
    assert watcher in namespace.channels[watchlist_channel("ann")]
    assert node.watchlist_news("ann") == ["online"]
    bob, bob_session = await node.open()
    bob_user = SignedInUser(UserId("bob"), '{"id":"bob"}', (UserId("ann"),))
    await node.membership.sign_in(bob, bob_session, SignIn(bob_user))
    assert bob.events()[-2:] == ["pusher:signin_success", "pusher_internal:watchlist_events"]  # Ann is online
    await node.close(ann, ann_session)
    assert node.watchlist_news("ann") == ["online", "offline"]
    assert UserId("ann") not in namespace.users


async def test_a_client_event_goes_to_the_others_and_the_webhooks(node: Node) -> None:
    _, ann_session = await node.open()
    message = json.dumps({"event": "client-typing", "channel": "private-a", "data": {}}).encode()
    event = ClientEvent(ChannelName("private-a"), "client-typing", message, {}, None)
    await node.membership.relay(ann_session, event)
    assert node.deliveries("private-a") == [("client-typing", ann_session.socket_id)]
    (_, reported), *_ = node.webhooks.emitted
    assert (reported.kind, reported.socket_id) == (WebhookKind.CLIENT_EVENT, ann_session.socket_id)


async def test_release_on_close_leaves_every_channel_and_uncounts_the_socket(node: Node) -> None:
    ann, ann_session = await node.open()
    await node.join(ann, ann_session, NEWS)
    await node.join(ann, ann_session, ROOM, user="ann")
    await node.membership.sign_in(ann, ann_session, SignIn(SignedInUser(UserId("ann"), '{"id":"ann"}')))
    await node.close(ann, ann_session)
    namespace = node.namespaces[TEST_APP.id]
    assert (namespace.sockets, namespace.channels, namespace.users) == ({}, {}, {})
    assert namespace.counters.connections_closed == 1
    assert await node.adapter.channels(TEST_APP.id) == {}
    assert ann_session.channels == {}
    assert node.deliveries(ROOM)[-1] == ("pusher_internal:member_removed", None)
    assert node.webhooks.kinds().count(WebhookKind.CHANNEL_VACATED) == 2
    assert await node.adapter.add_connection(TEST_APP.id, new_socket_id()) == 1  # Ann's count was released

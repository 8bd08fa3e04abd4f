"""Webhooks as Pusher sends them, to a real HTTP endpoint: kinds, signing, filters, batching,
retries, dead letters, delivery after a restart (Redis) and the flush on shutdown."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator

import pytest

from opbx.protocol.app import App, WebhookTarget
from opbx.protocol.webhooks import WebhookEvent, WebhookKind
from opbx.realtime.server import RealtimeServer
from opbx.realtime.webhook_sink import NoWebhooks
from opbx.realtime.webhook_store import MemoryDeliveryStore
from opbx.realtime.webhook_store_redis import RedisDeliveryStore
from opbx.realtime.webhooks import MAX_BATCH, WebhookSender, retry_delay
from tests.conftest import ServerFactory
from tests.helpers.apps import SMALL_APP, TEST_APP
from tests.helpers.http_api import api_request
from tests.helpers.pusher_client import PusherClient
from tests.helpers.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = await WebhookReceiver().start()
    yield receiver
    await receiver.stop()


def with_hooks(app: App, *targets: WebhookTarget) -> App:
    return dataclasses.replace(app, webhooks=targets)


def names(receiver: WebhookReceiver) -> list[tuple[str, str]]:
    return [(event["name"], event["channel"]) for event in receiver.accepted_events()]


def occupied(channel: str) -> WebhookEvent:
    return WebhookEvent(WebhookKind.CHANNEL_OCCUPIED, channel)


async def test_each_kind_reaches_the_endpoint_signed_as_pusher_signs_it(
    make_server: ServerFactory, receiver: WebhookReceiver
) -> None:
    app = with_hooks(SMALL_APP, WebhookTarget(receiver.url, headers=(("Authorization", "Bearer hook-token"),)))
    server = await make_server(apps=(app,))
    alice = await PusherClient.connect(server.port, app.key)
    await alice.subscribe("presence-room", secret=app.secret, key=app.key, channel_data={"user_id": "alice"})
    await alice.subscribe("cache-prices")
    await alice.subscribe("private-chat", secret=app.secret, key=app.key)
    await alice.send("client-typing", {"who": "alice"}, channel="private-chat")
    expected = [
        ("channel_occupied", "presence-room"),
        ("member_added", "presence-room"),
        ("channel_occupied", "cache-prices"),
        ("cache_miss", "cache-prices"),
        ("subscription_count", "cache-prices"),
        ("channel_occupied", "private-chat"),
        ("subscription_count", "private-chat"),
        ("client_event", "private-chat"),
    ]
    await receiver.wait_for(lambda r: len(r.accepted_events()) == len(expected))
    await alice.close()
    # On the way out, each channel in turn: its last member or count, then vacated.
    leaving = [
        ("member_removed", "presence-room"),
        ("channel_vacated", "presence-room"),
        ("subscription_count", "cache-prices"),
        ("channel_vacated", "cache-prices"),
        ("subscription_count", "private-chat"),
        ("channel_vacated", "private-chat"),
    ]
    await receiver.wait_for(lambda r: len(r.accepted_events()) == len(expected) + len(leaving))
    got = names(receiver)
    assert got[: len(expected)] == expected
    assert sorted(got[len(expected) :]) == sorted(leaving)
    for request in receiver.received:
        assert request.headers["x-pusher-key"] == app.key
        assert request.headers["content-type"] == "application/json"
        assert request.headers["authorization"] == "Bearer hook-token"
        assert request.signed_by(app.secret)
        assert not request.signed_by("another-secret")
        assert isinstance(json.loads(request.body)["time_ms"], int)
    events = receiver.accepted_events()
    member = next(event for event in events if event["name"] == "member_added")
    assert member == {"name": "member_added", "channel": "presence-room", "user_id": "alice"}
    client = next(event for event in events if event["name"] == "client_event")
    assert client["event"] == "client-typing"
    assert json.loads(client["data"]) == {"who": "alice"}
    assert client["socket_id"] == alice.socket_id


async def test_a_target_gets_only_the_kinds_it_asked_for(make_server: ServerFactory, receiver: WebhookReceiver) -> None:
    app = with_hooks(TEST_APP, WebhookTarget(receiver.url, event_types=frozenset({WebhookKind.CHANNEL_VACATED})))
    server = await make_server(apps=(app,))
    client = await PusherClient.connect(server.port, app.key)
    await client.subscribe("news")
    await client.close()
    await receiver.wait_for(lambda r: len(r.received) >= 1)
    await asyncio.sleep(0.2)
    assert names(receiver) == [("channel_vacated", "news")]


async def test_events_are_batched_within_the_window_and_50_at_most_a_request(receiver: WebhookReceiver) -> None:
    app = with_hooks(TEST_APP, WebhookTarget(receiver.url, batch_ms=300))
    sender = WebhookSender([app], MemoryDeliveryStore())
    await sender.start()
    try:
        for index in range(MAX_BATCH + 7):
            sender.emit(app, occupied(f"channel-{index}"))
        await receiver.wait_for(lambda r: len(r.accepted_events()) == MAX_BATCH + 7)
        assert [len(request.events) for request in receiver.accepted()] == [MAX_BATCH, 7]
        assert [event["channel"] for event in receiver.accepted_events()] == [
            f"channel-{index}" for index in range(MAX_BATCH + 7)
        ]
    finally:
        await sender.stop(1.0)


async def test_a_failing_endpoint_is_retried_with_backoff_until_it_accepts(receiver: WebhookReceiver) -> None:
    receiver.answer = lambda number: 503 if number < 3 else 200
    app = with_hooks(TEST_APP, WebhookTarget(receiver.url))
    sender = WebhookSender([app], MemoryDeliveryStore(), retry_base=0.05)
    await sender.start()
    try:
        sender.emit(app, occupied("news"))
        await receiver.wait_for(lambda r: len(r.accepted()) == 1)
    finally:
        await sender.stop(1.0)  # returns once the delivery is recorded as done
    assert [request.status for request in receiver.received] == [503, 503, 503, 200]
    assert len({request.body for request in receiver.received}) == 1  # the same request each time
    counters = sender.counters[app.id]
    assert (counters.delivered, counters.failed) == (1, 3)


def test_backoff_doubles_to_a_cap_with_full_jitter() -> None:
    assert [retry_delay(attempts, rng=lambda: 1.0) for attempts in (1, 2, 3, 4, 7, 8, 20)] == [1, 2, 4, 8, 60, 60, 60]
    assert retry_delay(5, rng=lambda: 0.0) == 0


async def test_what_keeps_failing_becomes_a_dead_letter_listed_by_the_http_api(
    make_server: ServerFactory, receiver: WebhookReceiver
) -> None:
    receiver.answer = lambda _: 500
    app = with_hooks(TEST_APP, WebhookTarget(receiver.url))
    server = await make_server(apps=(app,), webhook_retry_window=0.3)
    client = await PusherClient.connect(server.port, app.key)
    await client.subscribe("news")

    async def dead_letters() -> list[dict[str, object]]:
        status, body = await api_request(
            server.port, "GET", f"/apps/{app.id}/webhooks/dead_letters", key=app.key, secret=app.secret
        )
        assert status == 200
        letters: list[dict[str, object]] = body["dead_letters"]
        return letters

    for _ in range(100):  # each failure is retried within a second; the window is 0.3 s
        if letters := await dead_letters():
            break
        await asyncio.sleep(0.1)
    (letter,) = letters
    assert letter["url"] == receiver.url
    assert letter["last_error"] == "HTTP 500"
    assert isinstance(letter["attempts"], int)
    assert letter["attempts"] >= 2
    assert json.loads(str(letter["body"]))["events"] == [{"name": "channel_occupied", "channel": "news"}]
    status, _ = await api_request(
        server.port, "GET", f"/apps/{app.id}/webhooks/dead_letters", key=app.key, secret="wrong"
    )
    assert status == 401
    await client.close()


async def test_shutdown_sends_the_open_batch(receiver: WebhookReceiver) -> None:
    app = with_hooks(TEST_APP, WebhookTarget(receiver.url, batch_ms=60_000))
    sender = WebhookSender([app], MemoryDeliveryStore())
    await sender.start()
    sender.emit(app, occupied("news"))
    await sender.stop(2.0)
    assert names(receiver) == [("channel_occupied", "news")]


async def test_with_redis_a_delivery_outlives_its_node_and_is_sent_once(
    receiver: WebhookReceiver, redis_url: str, redis_prefix: str
) -> None:
    receiver.answer = lambda number: 503 if number == 0 else 200
    app = with_hooks(TEST_APP, WebhookTarget(receiver.url))
    first = WebhookSender([app], RedisDeliveryStore(redis_url, prefix=redis_prefix), retry_base=30.0)
    await first.start()
    first.emit(app, occupied("news"))
    await receiver.wait_for(lambda r: len(r.received) == 1)  # failed; the retry is due in up to 30 s
    await first.stop(0.2)  # the node goes; its delivery stays in Redis

    # Two nodes come up; the retry falls due at once for them (a later clock) and one sends it.
    def later() -> float:
        return time.time() + 60

    nodes = [WebhookSender([app], RedisDeliveryStore(redis_url, prefix=redis_prefix), clock=later) for _ in range(2)]
    for node in nodes:
        await node.start()
    await receiver.wait_for(lambda r: len(r.accepted()) == 1)
    await asyncio.sleep(1.5)  # both nodes polled again: nothing more is sent
    for node in nodes:
        await node.stop(0.5)
    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body


async def test_a_server_whose_apps_have_no_webhook_targets_runs_no_sender(server: RealtimeServer) -> None:
    client = await PusherClient.connect(server.port, TEST_APP.key)
    await client.subscribe("news")
    await client.close()
    assert isinstance(server.webhooks, NoWebhooks)

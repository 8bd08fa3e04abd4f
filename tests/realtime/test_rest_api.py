"""The Pusher HTTP API over HTTP: statuses, JSON error bodies, channel queries."""

from __future__ import annotations

import asyncio
import http.client
import json
import time

import pusher
import pytest

from opbx.realtime.server import RealtimeServer
from tests.helpers.apps import DISABLED_APP, TEST_APP
from tests.helpers.http_api import api_request
from tests.helpers.pusher_client import PusherClient

pytestmark = pytest.mark.integration

APP_ID, KEY, SECRET = TEST_APP.id, TEST_APP.key, TEST_APP.secret
EVENTS = f"/apps/{APP_ID}/events"


def event(**fields: object) -> bytes:
    return json.dumps({"name": "e", "channel": "a", "data": "{}", **fields}).encode()


def sdk(port: int) -> pusher.Pusher:
    return pusher.Pusher(app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=port, ssl=False)


async def test_root_answers_for_health(server: RealtimeServer) -> None:
    status, body = await asyncio.to_thread(raw, server.port, "GET", "/")
    assert (status, body) == (200, {"ok": True})


def raw(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, object]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("tamper", "fragment"),
    [
        ({"auth_signature": "0" * 64}, "Invalid signature"),
        ({"auth_key": "nope"}, "auth_key"),
        ({"body_md5": "0" * 32}, "body_md5"),
    ],
)
async def test_bad_signatures_are_401_with_a_json_error(
    server: RealtimeServer, tamper: dict[str, str], fragment: str
) -> None:
    status, body = await api_request(server.port, "POST", EVENTS, key=KEY, secret=SECRET, body=event(), tamper=tamper)
    assert status == 401
    assert fragment in body["error"]
    assert body["status"] == 401


async def test_replayed_requests_older_than_ten_minutes_are_401(server: RealtimeServer) -> None:
    old = int(time.time()) - 601
    status, body = await api_request(server.port, "POST", EVENTS, key=KEY, secret=SECRET, body=event(), timestamp=old)
    assert status == 401
    assert "Timestamp" in body["error"]


async def test_unsigned_request_is_401(server: RealtimeServer) -> None:
    status, body = await asyncio.to_thread(raw, server.port, "POST", EVENTS, event())
    assert status == 401
    assert isinstance(body, dict)
    assert body["status"] == 401


async def test_malformed_and_over_limit_requests(server: RealtimeServer) -> None:
    for body, expected in [
        (b"{nope", 400),
        (event(name="x" * 201), 400),
        (event(channel="bad channel"), 400),
        (json.dumps({"name": "e", "channels": [f"c{i}" for i in range(101)], "data": "{}"}).encode(), 400),
        (event(data="x" * 10_241), 413),
    ]:
        status, answer = await api_request(server.port, "POST", EVENTS, key=KEY, secret=SECRET, body=body)
        assert status == expected, answer
        assert answer["status"] == expected


async def test_disabled_app_is_403(server: RealtimeServer) -> None:
    status, body = await api_request(
        server.port,
        "POST",
        f"/apps/{DISABLED_APP.id}/events",
        key=DISABLED_APP.key,
        secret=DISABLED_APP.secret,
        body=event(),
    )
    assert status == 403
    assert "disabled" in body["error"]


async def test_unknown_app_and_endpoint_are_404_and_wrong_method_405(server: RealtimeServer) -> None:
    status, _ = await api_request(server.port, "POST", "/apps/999/events", key=KEY, secret=SECRET, body=event())
    assert status == 404
    status, _ = await asyncio.to_thread(raw, server.port, "GET", "/nowhere")
    assert status == 404
    status, _ = await api_request(server.port, "GET", EVENTS, key=KEY, secret=SECRET)
    assert status == 405


async def test_sdk_trigger_batch_and_info(server: RealtimeServer) -> None:
    client = await PusherClient.connect(server.port, KEY)
    await client.subscribe("presence-room", key=KEY, secret=SECRET, channel_data={"user_id": "1"})
    await client.subscribe("plain")
    answer = await asyncio.to_thread(
        lambda: sdk(server.port).trigger_batch(
            [
                {"channel": "plain", "name": "one", "data": {"n": 1}},
                {"channel": "presence-room", "name": "two", "data": {"n": 2}, "info": "user_count,subscription_count"},
            ]
        )
    )
    assert answer == {"batch": [{}, {"user_count": 1, "subscription_count": 1}]}
    assert (await client.expect("one"))["data"] == '{"n": 1}'
    assert (await client.expect("two"))["channel"] == "presence-room"
    body = json.dumps({"name": "e", "channels": ["plain", "presence-room"], "data": "{}", "info": "subscription_count"})
    status, info = await api_request(server.port, "POST", EVENTS, key=KEY, secret=SECRET, body=body.encode())
    assert (status, info) == (
        200,
        {"channels": {"plain": {"subscription_count": 1}, "presence-room": {"subscription_count": 1}}},
    )


async def test_channel_queries(server: RealtimeServer) -> None:
    client = await PusherClient.connect(server.port, KEY)
    other = await PusherClient.connect(server.port, KEY)
    await client.subscribe("presence-room", key=KEY, secret=SECRET, channel_data={"user_id": "1"})
    await other.subscribe("presence-room", key=KEY, secret=SECRET, channel_data={"user_id": "1"})
    await client.subscribe("private-x", key=KEY, secret=SECRET)
    await client.subscribe("news")
    api = sdk(server.port)

    everything = await asyncio.to_thread(api.channels_info)
    assert everything == {"channels": {"news": {}, "presence-room": {}, "private-x": {}}}
    presence = await asyncio.to_thread(api.channels_info, "presence-", ["user_count"])
    assert presence == {"channels": {"presence-room": {"user_count": 1}}}
    room = await asyncio.to_thread(api.channel_info, "presence-room", ["user_count", "subscription_count"])
    assert room == {"occupied": True, "user_count": 1, "subscription_count": 2}
    empty = await asyncio.to_thread(api.channel_info, "nobody-here")
    assert empty == {"occupied": False}
    users = await asyncio.to_thread(api.users_info, "presence-room")
    assert users == {"users": [{"id": "1"}]}


async def test_invalid_queries_are_400(server: RealtimeServer) -> None:
    for path, params in [
        (f"/apps/{APP_ID}/channels", {"info": "user_count"}),  # user_count needs presence- prefix
        (f"/apps/{APP_ID}/channels", {"info": "bogus"}),
        (f"/apps/{APP_ID}/channels/news", {"info": "user_count"}),
        (f"/apps/{APP_ID}/channels/news/users", {}),
        (f"/apps/{APP_ID}/channels/bad*name", {}),
    ]:
        status, body = await api_request(server.port, "GET", path, key=KEY, secret=SECRET, params=params)
        assert status == 400, (path, body)

"""The server over real sockets: handshake, channels, presence, client events, heartbeat."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from opbx.realtime.server import RealtimeServer
from tests.conftest import ServerFactory
from tests.helpers.apps import DISABLED_APP, QUIET_APP, SMALL_APP, TEST_APP
from tests.helpers.clock import ManualClock
from tests.helpers.http_api import api_request
from tests.helpers.polling import eventually
from tests.helpers.pusher_client import PusherClient
from tests.helpers.scrape import scrape, scrape_until, value

pytestmark = pytest.mark.integration

KEY, SECRET = TEST_APP.key, TEST_APP.secret


async def closed_with(port: int, path: str) -> tuple[int, dict[str, object]]:
    """Connect, expect a pusher:error then a close; return (close code, error data)."""
    async with websockets.connect(f"ws://127.0.0.1:{port}{path}") as ws:
        error = json.loads(await asyncio.wait_for(ws.recv(), 5))
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 5)
    assert error["event"] == "pusher:error"
    assert info.value.rcvd is not None
    return info.value.rcvd.code, error["data"]


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/app/no-such-key?protocol=7", 4001),
        (f"/app/{DISABLED_APP.key}?protocol=7", 4003),
        (f"/app/{TEST_APP.key}", 4008),
        (f"/app/{TEST_APP.key}?protocol=seven", 4006),
        (f"/app/{TEST_APP.key}?protocol=3", 4007),
        (f"/app/{TEST_APP.key}?protocol=8", 4007),
    ],
)
async def test_refused_connections_get_the_protocol_code(server: RealtimeServer, path: str, code: int) -> None:
    close_code, error = await closed_with(server.port, path)
    assert close_code == code
    assert error["code"] == code


async def test_a_wrong_path_gets_no_pusher_session(server: RealtimeServer) -> None:
    with pytest.raises(InvalidStatus) as info:
        await websockets.connect(f"ws://127.0.0.1:{server.port}/socket?protocol=7")
    assert info.value.response.status_code == 404


async def test_older_protocol_versions_are_served(server: RealtimeServer) -> None:
    client = await PusherClient.connect(server.port, KEY, "protocol=5")
    assert (await client.subscribe("orders"))["event"] == "pusher_internal:subscription_succeeded"


async def test_socket_ids_are_unique_and_well_formed(server: RealtimeServer) -> None:
    clients = [await PusherClient.connect(server.port, KEY) for _ in range(20)]
    ids = {client.socket_id for client in clients}
    assert len(ids) == 20
    assert all(part.isdigit() for socket_id in ids for part in socket_id.split("."))
    assert clients[0].activity_timeout == 120


async def test_app_connection_quota_closes_with_4004(server: RealtimeServer) -> None:
    first = await PusherClient.connect(server.port, SMALL_APP.key)
    for _ in range(3):
        await PusherClient.connect(server.port, SMALL_APP.key)
    code, _ = await closed_with(server.port, f"/app/{SMALL_APP.key}?protocol=7")
    assert code == 4004
    await first.close()
    await eventually(lambda: admitted(server.port, SMALL_APP.key), "a place was freed")


async def admitted(port: int, key: str) -> PusherClient | None:
    """A connection the server accepted, or None if it refused it."""
    try:
        return await PusherClient.connect(port, key)
    except AssertionError:  # the first message was a pusher:error, not connection_established
        return None


async def test_server_capacity_closes_with_4100(make_server: ServerFactory) -> None:
    server = await make_server(max_connections=1)
    await PusherClient.connect(server.port, KEY)
    code, _ = await closed_with(server.port, f"/app/{KEY}?protocol=7")
    assert code == 4100


async def test_private_subscription_refused_then_socket_keeps_working(server: RealtimeServer) -> None:
    client = await PusherClient.connect(server.port, KEY)
    refused = await client.subscribe("private-a", key=KEY, secret="wrong-secret")
    assert refused["event"] == "pusher:subscription_error"
    assert refused["data"]["type"] == "AuthError"
    assert refused["data"]["status"] == 401
    accepted = await client.subscribe("private-a", key=KEY, secret=SECRET)
    assert accepted["event"] == "pusher_internal:subscription_succeeded"


async def test_presence_roster_and_member_events_once_per_user(server: RealtimeServer) -> None:
    channel = "presence-org.1"
    ann = await PusherClient.connect(server.port, KEY)
    joined = await ann.subscribe(
        channel, key=KEY, secret=SECRET, channel_data={"user_id": 1, "user_info": {"n": "Ann"}}
    )
    assert json.loads(joined["data"]) == {"presence": {"ids": ["1"], "hash": {"1": {"n": "Ann"}}, "count": 1}}

    bob = await PusherClient.connect(server.port, KEY)
    roster = await bob.subscribe(channel, key=KEY, secret=SECRET, channel_data={"user_id": "2", "user_info": None})
    assert json.loads(roster["data"])["presence"]["count"] == 2
    added = await ann.expect("pusher_internal:member_added")
    assert json.loads(added["data"]) == {"user_id": "2", "user_info": None}

    # Bob's second tab: no member_added for anyone.
    bob_tab = await PusherClient.connect(server.port, KEY)
    await bob_tab.subscribe(channel, key=KEY, secret=SECRET, channel_data={"user_id": "2", "user_info": None})
    await ann.nothing_within(0.2)

    await bob.close()
    await ann.nothing_within(0.2)  # Bob is still here through his other tab
    await bob_tab.send("pusher:unsubscribe", {"channel": channel})
    removed = await ann.expect("pusher_internal:member_removed")
    assert json.loads(removed["data"]) == {"user_id": "2"}
    users = await api_request(
        server.port, "GET", f"/apps/{TEST_APP.id}/channels/{channel}/users", key=KEY, secret=SECRET
    )
    assert users == (200, {"users": [{"id": "1"}]})


async def test_a_full_presence_channel_refuses_new_users_but_not_their_tabs(server: RealtimeServer) -> None:
    key, secret, channel = SMALL_APP.key, SMALL_APP.secret, "presence-room"
    first = await PusherClient.connect(server.port, key)
    await first.subscribe(channel, key=key, secret=secret, channel_data={"user_id": "1"})
    second = await PusherClient.connect(server.port, key)
    await second.subscribe(channel, key=key, secret=secret, channel_data={"user_id": "2"})
    await second.close()
    assert json.loads((await first.expect("pusher_internal:member_removed"))["data"]) == {"user_id": "2"}
    again = await PusherClient.connect(server.port, key)
    await again.subscribe(channel, key=key, secret=secret, channel_data={"user_id": "2"})
    third = await PusherClient.connect(server.port, QUIET_APP.key)  # other app, unaffected
    assert (await third.subscribe(channel, key=QUIET_APP.key, secret=QUIET_APP.secret, channel_data={"user_id": "3"}))[
        "event"
    ] == "pusher_internal:subscription_succeeded"
    await first.close()
    assert json.loads((await again.expect("pusher_internal:member_removed"))["data"]) == {"user_id": "1"}
    newcomer = await PusherClient.connect(server.port, key)
    assert (await newcomer.subscribe(channel, key=key, secret=secret, channel_data={"user_id": "3"}))[
        "event"
    ] == "pusher_internal:subscription_succeeded"
    full = await PusherClient.connect(server.port, key)
    refused = await full.subscribe(channel, key=key, secret=secret, channel_data={"user_id": "4"})
    assert refused["event"] == "pusher:subscription_error"
    assert refused["data"]["type"] == "LimitReached"


async def test_client_events_reach_others_but_not_the_sender(server: RealtimeServer) -> None:
    sender, receiver = await PusherClient.connect(server.port, KEY), await PusherClient.connect(server.port, KEY)
    for client in (sender, receiver):
        await client.subscribe("presence-chat", key=KEY, secret=SECRET, channel_data={"user_id": client.socket_id})
    await sender.expect("pusher_internal:member_added")
    await sender.send("client-typing", {"on": True}, channel="presence-chat")
    event = await receiver.expect("client-typing")
    assert event == {
        "event": "client-typing",
        "channel": "presence-chat",
        "data": {"on": True},
        "user_id": sender.socket_id,
    }
    await sender.nothing_within(0.2)


async def test_client_events_refused_when_the_app_disables_them(server: RealtimeServer) -> None:
    client = await PusherClient.connect(server.port, QUIET_APP.key)
    await client.subscribe("private-a", key=QUIET_APP.key, secret=QUIET_APP.secret)
    await client.send("client-x", {}, channel="private-a")
    error = await client.expect("pusher:error")
    assert error["data"]["code"] == 4301


async def test_trigger_excludes_the_given_socket(server: RealtimeServer) -> None:
    author, other = await PusherClient.connect(server.port, KEY), await PusherClient.connect(server.port, KEY)
    await author.subscribe("news")
    await other.subscribe("news")
    body = json.dumps({"name": "posted", "channel": "news", "data": "{}", "socket_id": author.socket_id}).encode()
    status, _ = await api_request(server.port, "POST", f"/apps/{TEST_APP.id}/events", key=KEY, secret=SECRET, body=body)
    assert status == 200
    assert (await other.expect("posted"))["channel"] == "news"
    await author.nothing_within(0.2)


async def test_cache_channel_replays_the_last_event_or_reports_a_miss(server: RealtimeServer) -> None:
    early = await PusherClient.connect(server.port, KEY)
    await early.subscribe("cache-prices")
    assert (await early.next())["event"] == "pusher:cache_miss"
    for price in ("1", "2"):
        body = json.dumps({"name": "price", "channel": "cache-prices", "data": price}).encode()
        await api_request(server.port, "POST", f"/apps/{TEST_APP.id}/events", key=KEY, secret=SECRET, body=body)
    late = await PusherClient.connect(server.port, KEY)
    await late.subscribe("cache-prices")
    assert await late.next() == {"event": "price", "channel": "cache-prices", "data": "2"}


async def test_subscription_count_events_when_the_app_enables_them(server: RealtimeServer) -> None:
    first = await PusherClient.connect(server.port, SMALL_APP.key)
    await first.subscribe("lobby")
    assert json.loads((await first.expect("pusher_internal:subscription_count"))["data"]) == {"subscription_count": 1}
    second = await PusherClient.connect(server.port, SMALL_APP.key)
    await second.subscribe("lobby")
    assert json.loads((await first.expect("pusher_internal:subscription_count"))["data"]) == {"subscription_count": 2}
    await second.close()
    assert json.loads((await first.expect("pusher_internal:subscription_count"))["data"]) == {"subscription_count": 1}


async def test_signed_in_users_get_their_events_and_can_be_terminated(server: RealtimeServer) -> None:
    phone, laptop = await PusherClient.connect(server.port, KEY), await PusherClient.connect(server.port, KEY)
    bystander = await PusherClient.connect(server.port, KEY)
    for client in (phone, laptop):
        answer = await client.sign_in(KEY, SECRET, {"id": "42", "user_info": {"name": "Ann"}})
        assert answer == {
            "event": "pusher:signin_success",
            "data": {"user_data": '{"id": "42", "user_info": {"name": "Ann"}}'},
        }
    body = json.dumps({"name": "notice", "channel": "#server-to-user-42", "data": "hi"}).encode()
    await api_request(server.port, "POST", f"/apps/{TEST_APP.id}/events", key=KEY, secret=SECRET, body=body)
    for client in (phone, laptop):
        assert await client.expect("notice") == {"event": "notice", "channel": "#server-to-user-42", "data": "hi"}
    status, _ = await api_request(
        server.port, "POST", f"/apps/{TEST_APP.id}/users/42/terminate_connections", key=KEY, secret=SECRET, body=b"{}"
    )
    assert status == 200
    for client in (phone, laptop):
        assert (await client.expect("pusher:error"))["data"]["code"] == 4009
        with pytest.raises(ConnectionClosed) as info:
            await client.next()
        assert info.value.rcvd is not None
        assert info.value.rcvd.code == 4009
    assert (await bystander.subscribe("still-here"))["event"] == "pusher_internal:subscription_succeeded"


async def test_failed_signin_closes_with_4009(server: RealtimeServer) -> None:
    client = await PusherClient.connect(server.port, KEY)
    answer = await client.sign_in(KEY, "forged", {"id": "42"})
    assert answer["data"]["code"] == 4009
    with pytest.raises(ConnectionClosed):
        await client.next()


async def test_heartbeat_pings_silent_clients_and_closes_with_4201(make_server: ServerFactory) -> None:
    clock = ManualClock()
    server = await make_server(clock=clock)
    silent = await PusherClient.connect(server.port, KEY)
    chatty = await PusherClient.connect(server.port, KEY)
    clock.advance(120)
    server.sweep()
    assert (await silent.next())["event"] == "pusher:ping"
    assert (await chatty.next())["event"] == "pusher:ping"
    assert server.metrics_port is not None
    received = value(await scrape(server.metrics_port), "opbx_websocket_messages_received_total", app_id=TEST_APP.id)
    await chatty.send("pusher:pong", {})
    await scrape_until(  # the server has read the pong
        server.metrics_port,
        lambda samples: value(samples, "opbx_websocket_messages_received_total", app_id=TEST_APP.id) > received,
    )
    clock.advance(30)
    server.sweep()
    assert (await silent.next())["data"]["code"] == 4201
    with pytest.raises(ConnectionClosed) as info:
        await silent.next()
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 4201
    assert (await chatty.subscribe("alive"))["event"] == "pusher_internal:subscription_succeeded"


async def test_stop_asks_clients_to_reconnect_with_4200(make_server: ServerFactory) -> None:
    server = await make_server()
    client = await PusherClient.connect(server.port, KEY)
    await server.stop()
    assert (await client.next())["data"]["code"] == 4200
    with pytest.raises(ConnectionClosed) as info:
        await client.next()
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 4200


async def test_watchlist_reports_who_is_online_then_each_change(server: RealtimeServer) -> None:
    bob = await PusherClient.connect(server.port, KEY)
    await bob.sign_in(KEY, SECRET, {"id": "bob"})
    ann = await PusherClient.connect(server.port, KEY)
    assert (await ann.sign_in(KEY, SECRET, {"id": "ann", "watchlist": ["bob", "cid"]}))[
        "event"
    ] == "pusher:signin_success"
    initial = await ann.expect("pusher_internal:watchlist_events")
    assert json.loads(initial["data"]) == {"events": [{"name": "online", "user_ids": ["bob"]}]}

    cid, cid_tab = await PusherClient.connect(server.port, KEY), await PusherClient.connect(server.port, KEY)
    await cid.sign_in(KEY, SECRET, {"id": "cid"})
    online = await ann.expect("pusher_internal:watchlist_events")
    assert json.loads(online["data"]) == {"events": [{"name": "online", "user_ids": ["cid"]}]}
    await cid_tab.sign_in(KEY, SECRET, {"id": "cid"})  # a second socket: no news
    await cid.close()
    await ann.nothing_within(0.2)
    await cid_tab.close()
    offline = await ann.expect("pusher_internal:watchlist_events")
    assert json.loads(offline["data"]) == {"events": [{"name": "offline", "user_ids": ["cid"]}]}
    await bob.nothing_within(0.1)  # bob watches nobody

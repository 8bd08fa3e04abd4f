"""Several real nodes (separate processes, separate ports) over the real Redis.

Everything a client can observe must be cluster-wide: delivery exactly once per
subscriber, socket exclusion, presence rosters and member events, the HTTP API's
answers, quotas, termination; and it must survive a node killed without goodbye and a
Redis that dies and comes back.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pusher
import pytest
from websockets.exceptions import ConnectionClosed

from tests.helpers.apps import SMALL_APP, TEST_APP
from tests.helpers.auth_endpoint import AuthEndpoint
from tests.helpers.http_api import api_request
from tests.helpers.node_scenario import find_node, run_scenario
from tests.helpers.nodes import Node, PrivateRedis
from tests.helpers.pusher_client import PusherClient

pytestmark = pytest.mark.integration

KEY, SECRET = TEST_APP.key, TEST_APP.secret
NodeFactory = Callable[..., Node]


@pytest.fixture
def nodes(tmp_path: Path, redis_url: str, redis_prefix: str) -> Iterator[NodeFactory]:
    """Start nodes of one cluster: on the machine's Redis, or on the Redis at ``url``."""
    started: list[Node] = []

    def start(url: str = redis_url) -> Node:
        node = Node(tmp_path, url, redis_prefix).start()
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


def sdk(node: Node) -> pusher.Pusher:
    return pusher.Pusher(app_id=TEST_APP.id, key=KEY, secret=SECRET, host="127.0.0.1", port=node.port, ssl=False)


async def trigger(node: Node, channel: str, name: str, data: str = "{}", socket_id: str | None = None) -> None:
    body: dict[str, Any] = {"name": name, "channel": channel, "data": data}
    if socket_id is not None:
        body["socket_id"] = socket_id
    status, answer = await api_request(
        node.port, "POST", f"/apps/{TEST_APP.id}/events", key=KEY, secret=SECRET, body=json.dumps(body).encode()
    )
    assert status == 200, answer


async def test_an_event_reaches_every_subscriber_on_every_node_once(nodes: NodeFactory) -> None:
    a, b, c = nodes(), nodes(), nodes()
    clients = [await PusherClient.connect(node.port, KEY) for node in (a, b, c, a, b, c)]
    for client in clients:
        await client.subscribe("news")
    author = clients[4]  # on node b
    await trigger(a, "news", "posted", '{"n":1}', socket_id=author.socket_id)
    await trigger(c, "news", "posted", '{"n":2}')
    for client in clients:
        expected = ['{"n":2}'] if client is author else ['{"n":1}', '{"n":2}']
        received = [(await client.expect("posted"))["data"] for _ in expected]
        assert received == expected
        await client.nothing_within(0.1)  # no duplicate from another node


async def test_presence_is_cluster_wide(nodes: NodeFactory) -> None:
    a, b = nodes(), nodes()
    channel = "presence-room"
    ann = await PusherClient.connect(a.port, KEY)
    await ann.subscribe(channel, key=KEY, secret=SECRET, channel_data={"user_id": "ann"})
    bob = await PusherClient.connect(b.port, KEY)
    roster = json.loads((await bob.subscribe(channel, key=KEY, secret=SECRET, channel_data={"user_id": "bob"}))["data"])
    assert sorted(roster["presence"]["ids"]) == ["ann", "bob"]
    assert json.loads((await ann.expect("pusher_internal:member_added"))["data"])["user_id"] == "bob"
    ann_tab = await PusherClient.connect(b.port, KEY)  # Ann again, on the other node
    await ann_tab.subscribe(channel, key=KEY, secret=SECRET, channel_data={"user_id": "ann"})
    await bob.nothing_within(0.3)  # not a new member
    await ann.close()
    await bob.nothing_within(0.3)  # Ann is still here through node b
    await ann_tab.close()
    assert json.loads((await bob.expect("pusher_internal:member_removed"))["data"]) == {"user_id": "ann"}


async def test_the_http_api_answers_for_the_whole_cluster(nodes: NodeFactory) -> None:
    a, b = nodes(), nodes()
    for node, user in ((a, "1"), (b, "2"), (b, "1")):
        client = await PusherClient.connect(node.port, KEY)
        await client.subscribe("presence-room", key=KEY, secret=SECRET, channel_data={"user_id": user})
    watcher = await PusherClient.connect(a.port, KEY)
    await watcher.subscribe("lobby")
    for node in (a, b):
        info = await asyncio.to_thread(sdk(node).channel_info, "presence-room", ["user_count", "subscription_count"])
        assert info == {"occupied": True, "user_count": 2, "subscription_count": 3}
        assert await asyncio.to_thread(sdk(node).channels_info) == {"channels": {"lobby": {}, "presence-room": {}}}
        users = await asyncio.to_thread(sdk(node).users_info, "presence-room")
        assert sorted(user["id"] for user in users["users"]) == ["1", "2"]


async def test_terminating_a_user_closes_their_sockets_on_every_node(nodes: NodeFactory) -> None:
    a, b = nodes(), nodes()
    phones = [await PusherClient.connect(node.port, KEY) for node in (a, b)]
    for phone in phones:
        await phone.sign_in(KEY, SECRET, {"id": "42"})
    await asyncio.to_thread(sdk(b).terminate_user_connections, "42")
    for phone in phones:
        assert (await phone.expect("pusher:error"))["data"]["code"] == 4009
        with pytest.raises(ConnectionClosed):
            await phone.next()


async def test_connection_quotas_hold_across_the_cluster(nodes: NodeFactory) -> None:
    a, b = nodes(), nodes()
    assert SMALL_APP.limits.max_connections == 4
    for node in (a, b, a, b):
        await PusherClient.connect(node.port, SMALL_APP.key)
    with pytest.raises(AssertionError, match="4004"):
        await PusherClient.connect(a.port, SMALL_APP.key)


async def test_a_killed_nodes_members_leave_every_roster_once(nodes: NodeFactory) -> None:
    a, b, doomed = nodes(), nodes(), nodes()
    channel = "presence-room"
    watchers = []
    for node, user in ((a, "ann"), (b, "bob")):
        client = await PusherClient.connect(node.port, KEY)
        await client.subscribe(channel, key=KEY, secret=SECRET, channel_data={"user_id": user})
        watchers.append(client)
    for user in ("cid", "dee"):
        victim = await PusherClient.connect(doomed.port, KEY)
        await victim.subscribe(channel, key=KEY, secret=SECRET, channel_data={"user_id": user})
    bob_elsewhere = await PusherClient.connect(doomed.port, KEY)  # Bob has a tab on the doomed node too
    await bob_elsewhere.subscribe(channel, key=KEY, secret=SECRET, channel_data={"user_id": "bob"})
    for watcher in watchers:
        while True:  # drain the joins
            try:
                await watcher.expect("pusher_internal:member_added", timeout=0.3)
            except TimeoutError:
                break
    doomed.kill()
    for watcher in watchers:
        removed = []
        for _ in range(2):
            message = await watcher.expect("pusher_internal:member_removed", timeout=15)
            removed.append(json.loads(message["data"])["user_id"])
        removed.sort()
        assert removed == ["cid", "dee"]  # Bob is still here through node b
        await watcher.nothing_within(0.5)  # once each, not once per surviving node
    users = await asyncio.to_thread(sdk(a).users_info, channel)
    assert sorted(user["id"] for user in users["users"]) == ["ann", "bob"]
    info = await asyncio.to_thread(sdk(b).channel_info, channel, ["subscription_count"])
    assert info["subscription_count"] == 2


async def test_nodes_survive_redis_dying_and_catch_up(tmp_path: Path, nodes: NodeFactory) -> None:
    redis_server = PrivateRedis(tmp_path).start()
    try:
        a, b = nodes(redis_server.url), nodes(redis_server.url)
        on_a = await PusherClient.connect(a.port, KEY)
        on_b = await PusherClient.connect(b.port, KEY)
        for client, user in ((on_a, "ann"), (on_b, "bob")):
            await client.subscribe("presence-room", key=KEY, secret=SECRET, channel_data={"user_id": user})
            await client.subscribe("news")
        await trigger(a, "news", "before")
        for client in (on_a, on_b):
            await client.expect("before")

        redis_server.kill()
        await trigger(a, "news", "during")  # node a still serves its own sockets
        assert (await on_a.expect("during"))["event"] == "during"
        status, _ = await api_request(a.port, "GET", f"/apps/{TEST_APP.id}/channels", key=KEY, secret=SECRET)
        assert status == 503  # never a partial answer

        redis_server.start_again()
        for _ in range(100):  # the nodes reconnect with backoff and re-assert their state
            status, answer = await api_request(
                b.port, "GET", f"/apps/{TEST_APP.id}/channels/presence-room/users", key=KEY, secret=SECRET
            )
            if status == 200 and len(answer["users"]) == 2:
                break
            await asyncio.sleep(0.2)
        assert sorted(user["id"] for user in answer["users"]) == ["ann", "bob"]
        for _ in range(50):  # cross-node delivery works again once both buses are back
            await trigger(a, "news", "after")
            try:
                await on_b.expect("after", timeout=0.2)
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError("node b never heard node a again")
    finally:
        redis_server.kill()


@pytest.mark.js  # pusher-js under Node, as tests/realtime/test_js_clients.py
async def test_laravel_echo_presence_across_two_nodes(nodes: NodeFactory) -> None:
    """The JS presence scenario with its sockets spread over two nodes (a, b2 on one; b1, c
    on the other): here, joining and leaving exactly as on one server."""
    a, b = nodes(), nodes()
    signer = sdk(a)
    endpoint = AuthEndpoint(signer, forger=pusher.Pusher(app_id=TEST_APP.id, key=KEY, secret="not-" + SECRET))
    endpoint.start()
    call_data = {"call_id": "c-7", "from": "+15550100"}

    async def trigger(_: dict[str, Any]) -> None:
        await asyncio.to_thread(signer.trigger, "presence-org.1", "call.initiated", call_data)

    try:
        t = await run_scenario(
            find_node(),
            "presence",
            port=a.port,
            key=KEY,
            channel_auth_url=endpoint.channel_auth_url,
            user_auth_url=endpoint.user_auth_url,
            on_ready={"trigger": trigger},
            extra_env={"OPBX_WS_PORTS": f"{a.port},{b.port}"},
        )
    finally:
        endpoint.stop()
        signer._pusher_client.http.session.close()
    assert t.outcome == "done", t.describe()
    assert endpoint.errors == []
    ports = {record["client"]: record["port"] for record in t.records if record.get("type") == "connected"}
    assert ports == {"a": a.port, "b1": b.port, "b2": a.port, "c": b.port}

    def ids(records: list[dict[str, Any]]) -> list[int]:
        return sorted(member["id"] for member in records)

    assert ids(next(iter(t.of("c", "here")))["members"]) == [1, 2, 3]
    # User 2 has sockets on both nodes: one joining when the first arrives, one leaving at the last.
    assert [record["member"]["id"] for record in t.of("a", "joining")] == [2, 3]
    assert [record["member"]["id"] for record in t.of("a", "leaving")] == [3, 2]
    for client in ("a", "b1", "b2", "c"):
        assert t.events(client, "presence-org.1") == [(".call.initiated", call_data)]

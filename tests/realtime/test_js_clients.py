"""The server, unchanged, with the real npm clients: pusher-js and laravel-echo under Node.

Each test starts the server in-process, runs one scenario of ``tests/js/scenario.mjs``
as a subprocess, publishes with the ``pusher`` Python SDK when the scenario is ready,
and asserts on what the Node clients reported. Channel authorization and user sign-in
go through a real HTTP endpoint (:class:`tests.helpers.auth_endpoint.AuthEndpoint`)
that signs with the SDK, as a web app's back end does.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pusher
import pytest

from opbx.realtime.server import RealtimeServer
from tests.helpers.apps import TEST_APP
from tests.helpers.auth_endpoint import CHANNEL_AUTH_PATH, USER_AUTH_PATH, AuthEndpoint, presence_info, user_data
from tests.helpers.node_scenario import ReadyHandler, Transcript, find_node, run_scenario

pytestmark = [pytest.mark.js, pytest.mark.integration]

Run = Callable[[str, dict[str, ReadyHandler]], Awaitable[Transcript]]


@pytest.fixture(scope="module")
def node() -> str:
    return find_node()


@pytest.fixture
def sdk(server: RealtimeServer) -> Iterator[pusher.Pusher]:
    """The app's back end: the pusher SDK, with an encryption master key for encrypted channels."""
    sdk = pusher.Pusher(
        app_id=TEST_APP.id,
        key=TEST_APP.key,
        secret=TEST_APP.secret,
        host="127.0.0.1",
        port=server.port,
        ssl=False,
        encryption_master_key_base64=base64.b64encode(os.urandom(32)).decode(),
    )
    yield sdk
    # Close the SDK's keep-alive connection before the server stops. A failed test keeps
    # the SDK alive in its traceback; the server's stop() leaves idle HTTP connections
    # open, and uvloop's loop.close() then hangs on the "unclosed transport"
    # ResourceWarning that filterwarnings=error turns into an exception.
    sdk._pusher_client.http.session.close()


@pytest.fixture
def auth_endpoint(sdk: pusher.Pusher) -> Iterator[AuthEndpoint]:
    forger = pusher.Pusher(app_id=TEST_APP.id, key=TEST_APP.key, secret="not-" + TEST_APP.secret)
    endpoint = AuthEndpoint(sdk, forger=forger)
    endpoint.start()
    yield endpoint
    endpoint.stop()
    assert endpoint.errors == []


@pytest.fixture
def run(node: str, server: RealtimeServer, auth_endpoint: AuthEndpoint) -> Run:
    async def run(scenario: str, on_ready: dict[str, ReadyHandler]) -> Transcript:
        transcript = await run_scenario(
            node,
            scenario,
            port=server.port,
            key=TEST_APP.key,
            channel_auth_url=auth_endpoint.channel_auth_url,
            user_auth_url=auth_endpoint.user_auth_url,
            on_ready=on_ready,
        )
        assert transcript.outcome == "done", transcript.describe()
        assert transcript.returncode == 0, transcript.describe()
        return transcript

    return run


async def call(method: Callable[..., Any], *args: Any) -> Any:
    """A blocking SDK call, off the event loop the server runs on.

    A failure is re-raised without the SDK's exception: its traceback holds the HTTP
    response, whose socket would stay open and hang the event loop's close (see ``sdk``).
    """
    try:
        return await asyncio.to_thread(method, *args)
    except Exception as exc:
        failure = f"pusher SDK {method.__name__}{args!r} failed: {type(exc).__name__}: {exc}"
    raise AssertionError(failure)


def member_ids(members: list[dict[str, Any]]) -> list[int]:
    return sorted(member["id"] for member in members)


def only(records: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(records) == 1, records
    return records[0]


async def test_public_channel_gets_sdk_events(run: Run, sdk: pusher.Pusher) -> None:
    async def trigger(ready: dict[str, Any]) -> None:
        await call(sdk.trigger, "orders", "order-placed", {"id": 7, "item": "crème brûlée"})
        await call(sdk.trigger, "orders", "order-updated", {"id": 7, "status": "paid"}, ready["socket_ids"]["a"])
        await call(sdk.trigger, "orders", "order-closed", {"id": 7})

    t = await run("public", {"trigger": trigger})

    for client in ("a", "b"):
        assert t.of(client, "subscribed") == [{"client": client, "type": "subscribed", "channel": "orders"}]
        assert only(t.wire(client, "pusher_internal:subscription_succeeded"))["channel"] == "orders"
    placed = ("order-placed", {"id": 7, "item": "crème brûlée"})
    updated = ("order-updated", {"id": 7, "status": "paid"})
    closed = ("order-closed", {"id": 7})
    assert t.events("a", "orders") == [placed, closed]  # a's socket_id excluded it from order-updated
    assert t.events("b", "orders") == [placed, updated, closed]


async def test_private_channel_through_the_auth_endpoint(
    run: Run, sdk: pusher.Pusher, auth_endpoint: AuthEndpoint
) -> None:
    async def trigger(ready: dict[str, Any]) -> None:
        await call(sdk.trigger, "private-ledger", "entry-posted", {"amount": "19.99", "currency": "EUR"})

    t = await run("private", {"trigger": trigger})

    denied = only(t.of("a", "subscription_error", channel="private-denied-ledger"))["error"]
    assert (denied["type"], denied["status"]) == ("AuthError", 403)  # pusher-js: the endpoint said no
    assert t.wire("a", "pusher:subscription_error", "private-denied-ledger") == []

    forged = only(t.of("a", "subscription_error", channel="private-forged-ledger"))["error"]
    assert forged == {"type": "AuthError", "error": "Invalid signature", "status": 401}
    assert only(t.wire("a", "pusher:subscription_error", "private-forged-ledger"))["data"] == forged

    assert t.of("a", "subscribed", channel="private-ledger") != []
    assert t.events("a", "private-ledger") == [("entry-posted", {"amount": "19.99", "currency": "EUR"})]
    assert t.states("a") == ["connecting", "connected"]
    assert t.of("a", "connection_error") == []
    assert t.of("a", "socket_closed") == []
    assert sorted(auth_endpoint.channels_authorized()) == [
        "private-denied-ledger",
        "private-forged-ledger",
        "private-ledger",
    ]


async def test_presence_with_laravel_echo(run: Run, sdk: pusher.Pusher) -> None:
    call_data = {"call_id": "c-42", "from": "+15550100", "queue": "support"}

    async def trigger(ready: dict[str, Any]) -> None:
        await call(sdk.trigger, "presence-org.1", "call.initiated", call_data)

    t = await run("presence", {"trigger": trigger})

    def here(client: str) -> list[int]:
        return member_ids(only(t.of(client, "here"))["members"])

    assert here("a") == [1]
    assert here("b1") == [1, 2]
    assert here("b2") == [1, 2]
    assert here("c") == [1, 2, 3]
    assert only(t.of("a", "here"))["members"] == [presence_info("1")]

    def joined(client: str) -> list[dict[str, Any]]:
        return [record["member"] for record in t.of(client, "joining")]

    # User 2's second socket (b2) is not a new member: no joining for it.
    assert joined("a") == [presence_info("2"), presence_info("3")]
    assert joined("b1") == [presence_info("3")]
    assert joined("b2") == [presence_info("3")]
    assert joined("c") == []
    # User 2 leaves only with its last socket (b2), after user 3.
    assert [record["member"] for record in t.of("a", "leaving")] == [presence_info("3"), presence_info("2")]

    membership = [
        (record["event"].removeprefix("pusher_internal:"), str(record["data"]["user_id"]))
        for record in t.records
        if record.get("client") == "a"
        and record.get("type") == "wire"
        and record.get("event") in ("pusher_internal:member_added", "pusher_internal:member_removed")
    ]
    assert membership == [
        ("member_added", "2"),
        ("member_added", "3"),
        ("member_removed", "3"),
        ("member_removed", "2"),
    ]

    for client in ("a", "b1", "b2", "c"):
        assert t.events(client, "presence-org.1") == [(".call.initiated", call_data)]
        assert only(t.wire(client, "call.initiated"))["channel"] == "presence-org.1"

    # Echo whispers are client events: every other socket, the sender's own user included.
    for client in ("a", "b2", "c"):
        typing = only(t.of(client, "whisper", whisper="typing"))
        assert typing["data"] == {"typing": True}
        assert str(typing["metadata"]["user_id"]) == "2"
    assert t.of("b1", "whisper", whisper="typing") == []
    seen = only(t.of("b1", "whisper", whisper="seen"))
    assert (seen["data"], str(seen["metadata"]["user_id"])) == ({"seen": True}, "1")
    assert t.of("a", "whisper", whisper="seen") == []


async def test_encrypted_channel(run: Run, sdk: pusher.Pusher, auth_endpoint: AuthEndpoint) -> None:
    secret = {"code": "4711", "note": "for a's eyes only"}

    async def trigger(ready: dict[str, Any]) -> None:
        await call(sdk.trigger, "private-encrypted-vault", "secret-shared", secret)

    t = await run("encrypted", {"trigger": trigger})

    assert t.of("a", "subscribed", channel="private-encrypted-vault") != []
    assert t.events("a", "private-encrypted-vault") == [("secret-shared", secret)]
    relayed = only(t.wire("a", "secret-shared"))["data"]
    assert sorted(relayed) == ["ciphertext", "nonce"]  # the server relayed the ciphertext untouched
    assert "4711" not in json.dumps(relayed)
    assert [(r.path, r.form["channel_name"], r.status) for r in auth_endpoint.requests] == [
        (CHANNEL_AUTH_PATH, "private-encrypted-vault", 200)
    ]


async def test_client_events_on_private_and_presence_channels(run: Run) -> None:
    t = await run("client-events", {})

    private, presence = "private-chat.7", "presence-chat.7"
    for channel in (private, presence):
        for client in ("a", "b"):
            assert t.of(client, "subscribed", channel=channel) != [], t.of(client, "subscription_error")
        assert only(t.of("a", "triggered", channel=channel, event="client-typing"))["sent"] is True
        assert only(t.of("b", "triggered", channel=channel, event="client-ack"))["sent"] is True
        # The other socket gets it; the sender does not.
        assert t.events("b", channel) == [("client-typing", {"typing": True, "on": channel})]
        assert t.events("a", channel) == [("client-ack", {"ack": True, "on": channel})]

    # pusher-js's presence members, built from subscription_succeeded.
    roster = only(t.of("b", "subscribed", channel=presence))
    assert (roster["count"], roster["members"]) == (2, {"alice": presence_info("alice"), "bob": presence_info("bob")})
    assert roster["me"] == {"id": "bob", "info": presence_info("bob")}

    # On a private channel there is no user to name; on a presence channel, the sender's user_id.
    assert only(t.of("b", "event", channel=private))["metadata"] == {}
    assert "user_id" not in only(t.wire("b", "client-typing", private))
    assert only(t.of("b", "event", channel=presence))["metadata"] == {"user_id": "alice"}
    assert only(t.of("a", "event", channel=presence))["metadata"] == {"user_id": "bob"}


async def test_user_signin_and_send_to_user(run: Run, sdk: pusher.Pusher, auth_endpoint: AuthEndpoint) -> None:
    async def send(ready: dict[str, Any]) -> None:
        await call(sdk.send_to_user, "alice", "order-shipped", {"order": 7, "carrier": "DHL"})
        await call(sdk.send_to_user, "bob", "invoice-ready", {"invoice": "INV-9"})

    t = await run("signin", {"send": send})

    for client, user in (("a1", "alice"), ("a2", "alice"), ("b", "bob")):
        assert only(t.of(client, "signed_in"))["user_data"] == user_data(user)
        assert only(t.wire(client, "pusher:signin_success"))["data"] == {"user_data": json.dumps(user_data(user))}
    assert sorted(str(r.user) for r in auth_endpoint.requests if r.path == USER_AUTH_PATH) == ["alice", "alice", "bob"]
    for client in ("a1", "a2"):  # every socket of the user
        assert [(r["event"], r["data"]) for r in t.of(client, "user_event")] == [
            ("order-shipped", {"order": 7, "carrier": "DHL"})
        ]
    assert [(r["event"], r["data"]) for r in t.of("b", "user_event")] == [("invoice-ready", {"invoice": "INV-9"})]


async def test_terminate_user_connections(run: Run, sdk: pusher.Pusher) -> None:
    async def terminate(ready: dict[str, Any]) -> None:
        await call(sdk.terminate_user_connections, "alice")

    async def after_terminate(ready: dict[str, Any]) -> None:
        await call(sdk.send_to_user, "bob", "still-here", {"ok": True})

    t = await run("terminate", {"terminate": terminate, "after-terminate": after_terminate})

    for client in ("a1", "a2"):
        # pusher:error, then a close with 4009, which pusher-js does not retry.
        assert only(t.wire(client, "pusher:error"))["data"]["code"] == 4009
        assert only(t.of(client, "socket_closed"))["code"] == 4009
        assert t.states(client) == ["connecting", "connected", "disconnected"]
    assert [(r["event"], r["data"]) for r in t.of("b", "user_event")] == [("still-here", {"ok": True})]
    assert t.of("b", "socket_closed") == []
    assert t.states("b") == ["connecting", "connected"]


async def test_cache_channel(run: Run, sdk: pusher.Pusher) -> None:
    quote = {"symbol": "OPBX", "price": "12.50"}

    async def trigger(ready: dict[str, Any]) -> None:
        await call(sdk.trigger, "cache-quotes", "quote", quote)

    t = await run("cache", {"trigger": trigger})

    def seen(client: str) -> list[str]:
        return [
            r["type"]
            for r in t.records
            if r.get("client") == client and r["type"] in ("subscribed", "cache_miss", "event")
        ]

    assert seen("a") == ["subscribed", "cache_miss", "event"]
    assert t.events("a", "cache-quotes") == [("quote", quote)]
    # The late subscriber gets the last event right after subscribing, and no cache_miss.
    assert seen("b") == ["subscribed", "event"]
    assert t.events("b", "cache-quotes") == [("quote", quote)]

"""The Pusher session, sans I/O: frames in, actions out, time passed in."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from opbx.protocol.app import App, AppId, Limits
from opbx.protocol.channels import ChannelKind
from opbx.protocol.presence import PresenceMember
from opbx.protocol.session import (
    Action,
    ClientEvent,
    Close,
    Join,
    Leave,
    Refused,
    Send,
    Session,
    SignIn,
    new_socket_id,
)
from opbx.protocol.signing import channel_auth, user_auth

APP = App(id=AppId("1"), key="key", secret="secret", client_events=True)
SOCKET = new_socket_id()


def session(app: App = APP, now: float = 0.0) -> Session:
    return Session(app, SOCKET, now, activity_timeout=120, pong_timeout=30)


def frame(event: str, data: Any = None, channel: str | None = None) -> str:
    message: dict[str, Any] = {"event": event}
    if data is not None:
        message["data"] = data
    if channel is not None:
        message["channel"] = channel
    return json.dumps(message)


def sent(actions: list[Action]) -> list[dict[str, Any]]:
    return [json.loads(action.message) for action in actions if isinstance(action, Send)]


def only_sent(actions: list[Action]) -> dict[str, Any]:
    """The one message sent; a refusal must also carry a Refused action to log."""
    (message,) = sent(actions)
    others = [action for action in actions if not isinstance(action, Send)]
    refusal = message["event"] in ("pusher:error", "pusher:subscription_error")
    assert len(others) == (1 if refusal else 0), actions
    assert all(isinstance(action, Refused) for action in others)
    return message


def joined(s: Session, channel: str, channel_data: dict[str, Any] | None = None) -> Join:
    data: dict[str, Any] = {"channel": channel}
    encoded = json.dumps(channel_data) if channel_data is not None else None
    if channel.startswith(("private-", "presence-")):
        data["auth"] = channel_auth(APP.key, APP.secret, s.socket_id, channel, encoded)
    if encoded is not None:
        data["channel_data"] = encoded
    (action,) = s.receive(frame("pusher:subscribe", data), 0.0)
    assert isinstance(action, Join), action
    s.joined(action.channel, action.member)
    return action


def test_socket_ids_have_the_protocol_form_and_are_unique() -> None:
    ids = {new_socket_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(part.isdigit() for socket_id in ids for part in socket_id.split("."))


def test_open_greets_with_socket_id_and_activity_timeout() -> None:
    message = only_sent(session().open())
    assert message["event"] == "pusher:connection_established"
    assert json.loads(message["data"]) == {"socket_id": SOCKET, "activity_timeout": 120}


def test_ping_is_answered_with_pong() -> None:
    assert only_sent(session().receive(frame("pusher:ping", {}), 0.0))["event"] == "pusher:pong"
    assert session().receive(frame("pusher:pong", {}), 0.0) == []


def test_public_subscribe_needs_no_auth() -> None:
    action = joined(session(), "orders")
    assert action.type.kind is ChannelKind.PUBLIC
    assert action.member is None


def subscription_error(actions: list[Action]) -> dict[str, Any]:
    message = only_sent(actions)
    assert message["event"] == "pusher:subscription_error"
    data: dict[str, Any] = message["data"]
    return data


@pytest.mark.parametrize("auth", [None, "key:" + "0" * 64, "other:" + "0" * 64, 42])
def test_private_subscribe_with_missing_or_forged_auth_is_refused(auth: object) -> None:
    data: dict[str, Any] = {"channel": "private-a"}
    if auth is not None:
        data["auth"] = auth
    error = subscription_error(session().receive(frame("pusher:subscribe", data), 0.0))
    assert error["type"] == "AuthError"
    assert error["status"] == 401


def test_auth_signed_for_another_socket_is_refused() -> None:
    auth = channel_auth(APP.key, APP.secret, "1.1", "private-a")
    error = subscription_error(session().receive(frame("pusher:subscribe", {"channel": "private-a", "auth": auth}), 0))
    assert error["type"] == "AuthError"


def test_private_and_encrypted_subscribe_with_valid_auth() -> None:
    s = session()
    assert joined(s, "private-a").type.kind is ChannelKind.PRIVATE
    assert joined(s, "private-encrypted-a").type.kind is ChannelKind.ENCRYPTED


def test_presence_subscribe_carries_the_member() -> None:
    action = joined(session(), "presence-org.1", {"user_id": 7, "user_info": {"name": "Ann"}})
    assert action.member == PresenceMember(user_id="7", user_info={"name": "Ann"})  # type: ignore[arg-type]


def test_presence_channel_data_must_be_signed_and_valid() -> None:
    s = session()
    data = {"channel": "presence-a", "auth": channel_auth(APP.key, APP.secret, s.socket_id, "presence-a")}
    assert subscription_error(s.receive(frame("pusher:subscribe", data), 0.0))["type"] == "AuthError"
    channel_data = json.dumps({"user_info": {}})
    data = {
        "channel": "presence-a",
        "channel_data": channel_data,
        "auth": channel_auth(APP.key, APP.secret, s.socket_id, "presence-a", channel_data),
    }
    error = subscription_error(s.receive(frame("pusher:subscribe", data), 0.0))
    assert error == {"type": "InvalidChannelData", "error": "'user_id' must be a string or an integer", "status": 400}


def test_presence_user_info_over_the_limit_is_refused() -> None:
    small = dataclasses.replace(APP, limits=dataclasses.replace(Limits(), max_presence_user_info_bytes=10))
    s = session(small)
    channel_data = json.dumps({"user_id": "1", "user_info": {"name": "a long name"}})
    data = {
        "channel": "presence-a",
        "channel_data": channel_data,
        "auth": channel_auth(APP.key, APP.secret, s.socket_id, "presence-a", channel_data),
    }
    assert subscription_error(s.receive(frame("pusher:subscribe", data), 0.0))["type"] == "InvalidChannelData"


@pytest.mark.parametrize("channel", ["bad channel", "x" * 165, "#server-to-user-1"])
def test_invalid_channel_names_are_refused_per_channel(channel: str) -> None:
    error = subscription_error(session().receive(frame("pusher:subscribe", {"channel": channel}), 0.0))
    assert error["type"] == "InvalidChannel"
    assert error["status"] == 400


@pytest.mark.parametrize("channel", ["x" * 165, "private-" + "x" * 5000, "bad channel"])
def test_a_refused_channel_is_named_exactly_as_the_client_sent_it(channel: str) -> None:
    # pusher-js hands the error to the channel whose name equals the message's "channel".
    message = only_sent(session().receive(frame("pusher:subscribe", {"channel": channel}), 0.0))
    assert message["event"] == "pusher:subscription_error"
    assert message["channel"] == channel


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        frame("pusher:subscribe"),
        frame("pusher:subscribe", {"channel": 42}),
        frame("pusher:unsubscribe", "x"),
        frame("pusher:signout"),
        frame("my-event", {}),
    ],
)
def test_malformed_or_unknown_messages_get_4200_and_the_socket_stays(text: str) -> None:
    message = only_sent(session().receive(text, 0.0))
    assert message["event"] == "pusher:error"
    assert message["data"]["code"] == 4200


def test_unsubscribe_leaves_only_joined_channels() -> None:
    s = session()
    joined(s, "orders")
    assert s.receive(frame("pusher:unsubscribe", {"channel": "other"}), 0.0) == []
    assert s.receive(frame("pusher:unsubscribe", {"channel": "orders"}), 0.0) == [Leave("orders", None)]  # type: ignore[arg-type]
    assert s.channels == {}


def client_event(
    s: Session, channel: str, data: Any = None, event: str = "client-typing", now: float = 0.0
) -> list[Action]:
    return s.receive(frame(event, data if data is not None else {"x": 1}, channel), now)


def rejected(actions: list[Action]) -> str:
    message = only_sent(actions)
    assert message["event"] == "pusher:error"
    assert message["data"]["code"] == 4301
    reason: str = message["data"]["message"]
    return reason


def test_client_event_on_a_private_channel_is_relayed_once_encoded() -> None:
    s = session()
    joined(s, "private-a")
    (action,) = client_event(s, "private-a")
    assert isinstance(action, ClientEvent)
    assert json.loads(action.message) == {"event": "client-typing", "channel": "private-a", "data": {"x": 1}}


def test_presence_client_events_carry_the_senders_user_id() -> None:
    s = session()
    joined(s, "presence-a", {"user_id": "7"})
    (action,) = client_event(s, "presence-a")
    assert isinstance(action, ClientEvent)
    assert json.loads(action.message)["user_id"] == "7"


def test_client_events_need_the_app_switch() -> None:
    s = session(dataclasses.replace(APP, client_events=False))
    joined(s, "private-a")
    assert "not enabled" in rejected(client_event(s, "private-a"))


def test_client_events_need_a_joined_private_or_presence_channel() -> None:
    s = session()
    joined(s, "orders")
    joined(s, "private-encrypted-a")
    assert "joined" in rejected(client_event(s, "private-b"))
    assert "only on private and presence" in rejected(client_event(s, "orders"))
    assert "only on private and presence" in rejected(client_event(s, "private-encrypted-a"))


def test_client_event_size_and_name_limits() -> None:
    s = session()
    joined(s, "private-a")
    assert "larger than" in rejected(client_event(s, "private-a", {"x": "y" * 10_240}))
    assert "longer than" in rejected(client_event(s, "private-a", event="client-" + "x" * 200))


def test_client_events_are_rate_limited_per_socket_with_4301() -> None:
    s = session()
    joined(s, "private-a")
    accepted = [isinstance(client_event(s, "private-a", now=5.0)[0], ClientEvent) for _ in range(12)]
    assert accepted == [True] * 10 + [False, False]
    assert "rate limit" in rejected(client_event(s, "private-a", now=5.0))
    assert isinstance(client_event(s, "private-a", now=5.2)[0], ClientEvent)


def signin(s: Session, user_data: str, secret: str = APP.secret) -> list[Action]:
    auth = user_auth(APP.key, secret, s.socket_id, user_data)
    return s.receive(frame("pusher:signin", {"auth": auth, "user_data": user_data}), 0.0)


def test_signin_with_valid_auth() -> None:
    s = session()
    (action,) = signin(s, '{"id":"42","user_info":{"name":"Ann"}}')
    assert isinstance(action, SignIn)
    assert action.user.id == "42"
    assert s.user == action.user


@pytest.mark.parametrize(("user_data", "secret"), [('{"id":"42"}', "wrong"), ('{"name":"no id"}', APP.secret)])
def test_failed_signin_closes_with_4009(user_data: str, secret: str) -> None:
    actions = signin(session(), user_data, secret)
    assert sent(actions)[0]["data"]["code"] == 4009
    assert isinstance(actions[-1], Close)
    assert actions[-1].code == 4009


def test_heartbeat_pings_a_silent_client_then_closes_with_4201() -> None:
    s = session(now=0.0)
    assert s.tick(119.0) == []
    assert only_sent(s.tick(120.0))["event"] == "pusher:ping"
    assert s.tick(140.0) == []
    actions = s.tick(150.0)
    assert sent(actions)[0]["data"]["code"] == 4201
    assert actions[-1] == Close(4201, "Pong reply not received")


def test_any_message_counts_as_activity_and_answers_a_ping() -> None:
    s = session(now=0.0)
    s.receive(frame("pusher:pong", {}), 100.0)
    assert s.tick(200.0) == []
    assert only_sent(s.tick(220.0))["event"] == "pusher:ping"
    s.touch(225.0)
    assert s.tick(260.0) == []


def test_unsigned_sockets_are_closed_when_the_app_requires_signin() -> None:
    s = session(dataclasses.replace(APP, user_authentication_timeout=30.0))
    assert s.tick(29.0) == []
    actions = s.tick(30.0)
    assert actions[-1] == Close(4009, "Connection not signed in within the time allowed")
    signed = session(dataclasses.replace(APP, user_authentication_timeout=30.0))
    signin(signed, '{"id":"1"}')
    assert signed.tick(31.0) == []


def test_leave_all_leaves_every_joined_channel() -> None:
    s = session()
    joined(s, "orders")
    joined(s, "presence-a", {"user_id": "7"})
    leaves = s.leave_all()
    assert {leave.channel for leave in leaves} == {"orders", "presence-a"}
    assert s.channels == {}


def test_a_watchlist_over_the_limit_keeps_the_first_ids_with_4302() -> None:
    s = session(dataclasses.replace(APP, limits=dataclasses.replace(Limits(), max_watchlist_size=2)))
    actions = signin(s, json.dumps({"id": "1", "watchlist": ["2", "3", "4"]}))
    assert sent(actions)[0]["data"]["code"] == 4302
    assert not any(isinstance(action, Close) for action in actions)
    assert isinstance(actions[-1], SignIn)
    assert actions[-1].user.watchlist == ("2", "3")


def test_a_signed_in_socket_may_subscribe_to_its_own_user_channel_only() -> None:
    s = session()
    signin(s, '{"id":"42"}')
    own = only_sent(s.receive(frame("pusher:subscribe", {"channel": "#server-to-user-42", "auth": ""}), 0.0))
    assert own["event"] == "pusher_internal:subscription_succeeded"
    other = subscription_error(s.receive(frame("pusher:subscribe", {"channel": "#server-to-user-43"}), 0.0))
    assert other["type"] == "InvalidChannel"

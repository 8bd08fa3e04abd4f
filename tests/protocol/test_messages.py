"""Encoding of server messages and parsing of client frames."""

from __future__ import annotations

import json

import pytest

from opbx.protocol import messages
from opbx.protocol.errors import InvalidMessage


def decode(message: bytes) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(message)
    return decoded


def test_connection_established_double_encodes_its_data() -> None:
    message = decode(messages.connection_established("1.2", 120))
    assert message["event"] == "pusher:connection_established"
    assert isinstance(message["data"], str)
    assert json.loads(message["data"]) == {"socket_id": "1.2", "activity_timeout": 120}


def test_error_carries_code_and_message_as_an_object() -> None:
    assert decode(messages.error(4001, "nope")) == {"event": "pusher:error", "data": {"code": 4001, "message": "nope"}}
    assert decode(messages.error(4301, "slow", "private-a"))["channel"] == "private-a"


def test_subscription_succeeded_for_presence_carries_the_roster() -> None:
    message = decode(messages.subscription_succeeded("presence-a", {"ids": ["1"], "hash": {"1": None}, "count": 1}))
    assert message["channel"] == "presence-a"
    assert json.loads(str(message["data"])) == {"presence": {"ids": ["1"], "hash": {"1": None}, "count": 1}}
    assert decode(messages.subscription_succeeded("a"))["data"] == "{}"


def test_subscription_error_has_type_error_status() -> None:
    message = decode(messages.subscription_error("private-a", "AuthError", "bad", 401))
    assert message == {
        "event": "pusher:subscription_error",
        "channel": "private-a",
        "data": {"type": "AuthError", "error": "bad", "status": 401},
    }


def test_member_events() -> None:
    added = decode(messages.member_added("presence-a", "7", {"name": "Ann"}))
    assert added["event"] == "pusher_internal:member_added"
    assert json.loads(str(added["data"])) == {"user_id": "7", "user_info": {"name": "Ann"}}
    removed = decode(messages.member_removed("presence-a", "7"))
    assert json.loads(str(removed["data"])) == {"user_id": "7"}


def test_channel_event_relays_data_as_given_and_adds_user_id() -> None:
    assert decode(messages.channel_event("e", "c", '{"a":1}')) == {"event": "e", "channel": "c", "data": '{"a":1}'}
    relayed = decode(messages.channel_event("client-x", "presence-a", {"a": 1}, user_id="7"))
    assert relayed == {"event": "client-x", "channel": "presence-a", "data": {"a": 1}, "user_id": "7"}


def test_small_fixed_messages() -> None:
    assert decode(messages.ping()) == {"event": "pusher:ping", "data": {}}
    assert decode(messages.pong()) == {"event": "pusher:pong", "data": {}}
    assert decode(messages.cache_miss("cache-a")) == {"event": "pusher:cache_miss", "channel": "cache-a"}
    assert decode(messages.signin_success('{"id":"1"}')) == {
        "event": "pusher:signin_success",
        "data": {"user_data": '{"id":"1"}'},
    }
    count = decode(messages.subscription_count("a", 3))
    assert count["event"] == "pusher_internal:subscription_count"
    assert json.loads(str(count["data"])) == {"subscription_count": 3}


def test_parse_client_message() -> None:
    message = messages.parse_client_message('{"event":"client-a","channel":"private-b","data":{"x":1}}')
    assert (message.event, message.channel, message.data) == ("client-a", "private-b", {"x": 1})


@pytest.mark.parametrize("text", ["not json", "[]", '"str"', "{}", '{"event": 3}', '{"event": ""}', b"\xff"])
def test_malformed_client_messages_are_invalid(text: str | bytes) -> None:
    with pytest.raises(InvalidMessage):
        messages.parse_client_message(text)

"""Presence channel_data and signin user_data parsing."""

from __future__ import annotations

import json

import pytest

from opbx.protocol.presence import InvalidUserData, UserId, parse_channel_data, parse_user_data, roster


def parse(channel_data: object, max_info: int = 1024) -> object:
    return parse_channel_data(channel_data, max_user_id_length=128, max_user_info_bytes=max_info)


def test_string_and_integer_ids_compare_as_strings() -> None:
    member = parse_channel_data(
        json.dumps({"user_id": 10, "user_info": {"name": "Ann"}}), max_user_id_length=128, max_user_info_bytes=1024
    )
    assert member.user_id == "10"
    assert member.user_info == {"name": "Ann"}
    assert parse_channel_data('{"user_id":"abc"}', max_user_id_length=128, max_user_info_bytes=1024).user_info is None


@pytest.mark.parametrize(
    "channel_data",
    [
        None,
        "not json",
        "[1]",
        "{}",
        '{"user_id": ""}',
        '{"user_id": true}',
        '{"user_id": {"a": 1}}',
        json.dumps({"user_id": "x" * 129}),
    ],
)
def test_invalid_channel_data(channel_data: object) -> None:
    with pytest.raises(InvalidUserData):
        parse(channel_data)


def test_user_info_size_limit() -> None:
    info = {"bio": "x" * 1100}
    with pytest.raises(InvalidUserData, match="larger than 1024"):
        parse(json.dumps({"user_id": "1", "user_info": info}))
    assert parse(json.dumps({"user_id": "1", "user_info": info}), max_info=2048) is not None


def test_user_data_needs_an_id_and_may_carry_a_watchlist() -> None:
    user = parse_user_data('{"id":"7","watchlist":["8",9]}', max_user_id_length=128)
    assert user.id == "7"
    assert user.watchlist == ("8", "9")
    for bad in ('{"name":"x"}', '{"id":"7","watchlist":"8"}', "nope", None):
        with pytest.raises(InvalidUserData):
            parse_user_data(bad, max_user_id_length=128)


def test_roster_shape() -> None:
    assert roster({UserId("1"): {"a": 1}, UserId("2"): None}) == {
        "ids": ["1", "2"],
        "hash": {"1": {"a": 1}, "2": None},
        "count": 2,
    }

"""Channel kinds by anchored prefix, and name validity."""

from __future__ import annotations

import pytest

from opbx.protocol.channels import (
    ChannelKind,
    InvalidChannelName,
    channel_type,
    check_channel_name,
    user_channel,
)


@pytest.mark.parametrize(
    ("name", "kind", "cached"),
    [
        ("orders", ChannelKind.PUBLIC, False),
        ("cache-orders", ChannelKind.PUBLIC, True),
        ("private-orders", ChannelKind.PRIVATE, False),
        ("private-cache-orders", ChannelKind.PRIVATE, True),
        ("presence-org.1", ChannelKind.PRESENCE, False),
        ("presence-cache-org.1", ChannelKind.PRESENCE, True),
        ("private-encrypted-secrets", ChannelKind.ENCRYPTED, False),
        ("private-encrypted-cache-secrets", ChannelKind.ENCRYPTED, True),
        ("#server-to-user-42", ChannelKind.USER, False),
        # Anchored: the prefix must start the name (Soketi matches anywhere).
        ("my-private-orders", ChannelKind.PUBLIC, False),
        ("notpresence-org.1", ChannelKind.PUBLIC, False),
        ("privateorders", ChannelKind.PUBLIC, False),
    ],
)
def test_kind_is_decided_by_an_anchored_prefix(name: str, kind: ChannelKind, cached: bool) -> None:
    channel = channel_type(name)
    assert channel.kind is kind
    assert channel.cached is cached


def test_auth_and_client_event_rules_follow_the_kind() -> None:
    assert not channel_type("orders").needs_auth
    assert channel_type("private-x").needs_auth
    assert channel_type("presence-x").needs_auth
    assert channel_type("private-encrypted-x").needs_auth
    assert channel_type("private-x").accepts_client_events
    assert channel_type("presence-x").accepts_client_events
    assert not channel_type("private-encrypted-x").accepts_client_events
    assert not channel_type("orders").accepts_client_events


@pytest.mark.parametrize("name", ["a", "A-Z_a-z0-9=@,.;", "presence-org.1", "x" * 164])
def test_valid_names(name: str) -> None:
    assert check_channel_name(name, 164) == name


@pytest.mark.parametrize("name", ["", "has space", "slash/", "star*", "x" * 165, "ünïcode", 42, None])
def test_invalid_names(name: object) -> None:
    with pytest.raises(InvalidChannelName):
        check_channel_name(name, 164)


def test_user_channels_only_where_allowed() -> None:
    with pytest.raises(InvalidChannelName):
        check_channel_name("#server-to-user-42", 164)
    assert check_channel_name("#server-to-user-42", 164, allow_user_channel=True) == "#server-to-user-42"
    with pytest.raises(InvalidChannelName):
        check_channel_name("#server-to-user-bad id", 164, allow_user_channel=True)
    assert user_channel("42") == "#server-to-user-42"

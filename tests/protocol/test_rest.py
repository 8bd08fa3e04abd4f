"""HTTP API authentication and body validation, sans I/O."""

from __future__ import annotations

import json

import pytest

from opbx.protocol.app import App, AppId, Limits
from opbx.protocol.rest import ApiError, authenticate, parse_batch, parse_events_body, parse_info
from opbx.protocol.signing import body_md5, request_signature

APP = App(id=AppId("3"), key="key", secret="secret")
NOW = 1_800_000_000.0


def signed(method: str, path: str, body: bytes = b"", timestamp: float = NOW, **extra: str) -> dict[str, str]:
    params = {"auth_key": "key", "auth_timestamp": str(int(timestamp)), "auth_version": "1.0", **extra}
    if body:
        params["body_md5"] = body_md5(body)
    params["auth_signature"] = request_signature("secret", method, path, params)
    return params


def status_of(app: App, method: str, path: str, params: dict[str, str], body: bytes = b"") -> int:
    with pytest.raises(ApiError) as info:
        authenticate(app, method, path, params, body, NOW)
    return info.value.status


def test_a_correctly_signed_request_passes() -> None:
    body = b'{"name":"e","channel":"c","data":"{}"}'
    authenticate(APP, "POST", "/apps/3/events", signed("POST", "/apps/3/events", body), body, NOW)
    authenticate(APP, "GET", "/apps/3/channels", signed("GET", "/apps/3/channels", info="user_count"), b"", NOW)


def test_bad_signature_is_401() -> None:
    params = signed("GET", "/apps/3/channels")
    params["auth_signature"] = "0" * 64
    assert status_of(APP, "GET", "/apps/3/channels", params) == 401


def test_signature_covers_method_path_and_query() -> None:
    params = signed("GET", "/apps/3/channels", filter_by_prefix="presence-")
    assert status_of(APP, "POST", "/apps/3/channels", params) == 401
    assert status_of(APP, "GET", "/apps/3/channels/x", params) == 401
    params["filter_by_prefix"] = "private-"
    assert status_of(APP, "GET", "/apps/3/channels", params) == 401


def test_wrong_key_is_401() -> None:
    params = signed("GET", "/apps/3/channels")
    params["auth_key"] = "other"
    assert status_of(APP, "GET", "/apps/3/channels", params) == 401


def test_body_not_matching_its_md5_is_401() -> None:
    body = b'{"name":"e","channel":"c","data":"{}"}'
    params = signed("POST", "/apps/3/events", body)
    assert status_of(APP, "POST", "/apps/3/events", params, body.replace(b"e", b"f")) == 401
    no_md5 = signed("POST", "/apps/3/events")
    assert status_of(APP, "POST", "/apps/3/events", no_md5, body) == 401


@pytest.mark.parametrize("skew", [-601, 601, 10_000])
def test_stale_or_future_timestamp_is_401(skew: int) -> None:
    params = signed("GET", "/apps/3/channels", timestamp=NOW + skew)
    assert status_of(APP, "GET", "/apps/3/channels", params) == 401


@pytest.mark.parametrize("skew", [-600, 0, 600])
def test_timestamp_within_ten_minutes_passes(skew: int) -> None:
    authenticate(APP, "GET", "/apps/3/channels", signed("GET", "/apps/3/channels", timestamp=NOW + skew), b"", NOW)


def test_disabled_app_is_403_after_a_valid_signature() -> None:
    disabled = App(id=AppId("3"), key="key", secret="secret", enabled=False)
    assert status_of(disabled, "GET", "/apps/3/channels", signed("GET", "/apps/3/channels")) == 403


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_parse_event_with_channels_or_channel() -> None:
    trigger = parse_events_body(body(name="e", data="{}", channels=["a", "b", "a"], socket_id="1.2"), Limits())
    assert trigger.channels == ("a", "b")
    assert trigger.socket_id == "1.2"
    assert parse_events_body(body(name="e", data="x", channel="a"), Limits()).channels == ("a",)


def api_status(raw: bytes, limits: Limits | None = None) -> int:
    with pytest.raises(ApiError) as info:
        parse_events_body(raw, limits or Limits())
    return info.value.status


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        body(data="{}", channel="a"),
        body(name="", data="{}", channel="a"),
        body(name="e" * 201, data="{}", channel="a"),
        body(name="pusher:x", data="{}", channel="a"),
        body(name="e", data={"not": "a string"}, channel="a"),
        body(name="e", data="{}"),
        body(name="e", data="{}", channels=[]),
        body(name="e", data="{}", channels=["bad name"]),
        body(name="e", data="{}", channels=[f"c{i}" for i in range(101)]),
        body(name="e", data="{}", channel="a", socket_id="nope"),
        body(name="e", data="{}", channel="a", info="bogus"),
    ],
)
def test_malformed_events_are_400(raw: bytes) -> None:
    assert api_status(raw) == 400


def test_oversized_data_is_413() -> None:
    assert api_status(body(name="e", data="x" * 10_241, channel="a")) == 413
    parse_events_body(body(name="e", data="x" * 10_240, channel="a"), Limits())


def test_user_channels_may_be_triggered() -> None:
    assert parse_events_body(body(name="e", data="{}", channel="#server-to-user-9"), Limits()).channels == (
        "#server-to-user-9",
    )


def test_batch() -> None:
    batch = parse_batch(
        body(batch=[{"name": "e", "data": "1", "channel": "a", "info": "subscription_count"}]), Limits()
    )
    assert batch[0].info == {"subscription_count"}
    for bad in (
        body(batch=[]),
        body(batch="x"),
        body(batch=[{"name": "e", "data": "1", "channel": "a"}] * 11),
        body(batch=[{"name": "e", "data": "1", "channels": ["a"]}]),
        body(batch=[3]),
    ):
        with pytest.raises(ApiError) as info:
            parse_batch(bad, Limits())
        assert info.value.status == 400


def test_info_lists() -> None:
    assert parse_info("user_count, subscription_count") == {"user_count", "subscription_count"}
    assert parse_info(None) == frozenset()
    with pytest.raises(ApiError):
        parse_info("members")

"""The handshake's decisions, with no port: RFC 6455 4.2 first, then Pusher's admission checks."""

from __future__ import annotations

import dataclasses

import pytest

from opbx.protocol.app import Limits
from opbx.protocol.errors import PusherError
from opbx.realtime.apps import AppRegistry
from opbx.realtime.handshake import Accepted, Refusal, accept
from opbx.realtime.http import HttpRequest
from tests.helpers.apps import ALL_APPS, DISABLED_APP, SMALL_APP, TEST_APP

APPS = AppRegistry(ALL_APPS)
RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
"""The sample key of RFC 6455 section 1.3, whose accept value the RFC gives."""


def upgrade(path: str, *, method: str = "GET", **headers: str) -> HttpRequest:
    """A WebSocket upgrade request on ``path`` (query included); ``headers`` override the defaults."""
    raw_path, _, query = path.partition("?")
    fields = {
        "upgrade": "websocket",
        "connection": "Upgrade",
        "sec-websocket-key": RFC_KEY,
        "sec-websocket-version": "13",
    }
    fields.update({name.replace("_", "-"): value for name, value in headers.items()})
    pairs = dict(pair.partition("=")[::2] for pair in query.split("&") if pair)
    return HttpRequest(method, raw_path, raw_path, pairs, {k: v for k, v in fields.items() if v})


def decide(
    request: HttpRequest,
    *,
    apps: AppRegistry = APPS,
    connections: int = 0,
    max_connections: int | None = None,
    shutting_down: bool = False,
) -> Accepted | Refusal:
    return accept(request, apps, connections=connections, max_connections=max_connections, shutting_down=shutting_down)


def accepted(decision: Accepted | Refusal) -> Accepted:
    assert isinstance(decision, Accepted), decision
    return decision


def refused_with(decision: Accepted | Refusal) -> int:
    """The Pusher code an upgrade answered 101 is then refused with."""
    admission = accepted(decision).admission
    assert isinstance(admission, PusherError), admission
    return admission.code


def test_an_upgrade_to_a_known_app_is_admitted_with_the_rfc_accept_value() -> None:
    decision = accepted(decide(upgrade(f"/app/{TEST_APP.key}?protocol=7")))
    assert decision.admission == TEST_APP
    assert decision.key == TEST_APP.key
    assert decision.response == (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        (upgrade("/socket?protocol=7"), 404),
        (upgrade(f"/app/{TEST_APP.key}/extra?protocol=7"), 404),
        (upgrade(f"/app/{TEST_APP.key}?protocol=7", method="POST"), 400),
        (upgrade(f"/app/{TEST_APP.key}?protocol=7", upgrade=""), 400),
        (upgrade(f"/app/{TEST_APP.key}?protocol=7", sec_websocket_key=""), 400),
        (upgrade(f"/app/{TEST_APP.key}?protocol=7", sec_websocket_version="8"), 426),
    ],
)
def test_what_is_no_websocket_upgrade_to_an_app_is_refused_over_http(request_: HttpRequest, status: int) -> None:
    decision = decide(request_)
    assert isinstance(decision, Refusal)
    assert decision.response.status == status


def test_an_unsupported_websocket_version_is_told_the_one_served() -> None:
    decision = decide(upgrade(f"/app/{TEST_APP.key}?protocol=7", sec_websocket_version="8"))
    assert isinstance(decision, Refusal)
    assert ("Sec-WebSocket-Version", "13") in decision.response.headers


def test_the_upgrade_header_is_matched_without_regard_to_case() -> None:
    assert accepted(decide(upgrade(f"/app/{TEST_APP.key}?protocol=7", upgrade="WebSocket"))).admission == TEST_APP


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/app/no-such-key?protocol=7", 4001),
        ("/app/no-such-key", 4001),  # the app is looked up before the version
        (f"/app/{TEST_APP.key}", 4008),
        (f"/app/{TEST_APP.key}?protocol=seven", 4006),
        (f"/app/{TEST_APP.key}?protocol=3", 4007),
        (f"/app/{TEST_APP.key}?protocol=8", 4007),
        (f"/app/{DISABLED_APP.key}?protocol=7", 4003),
        (f"/app/{DISABLED_APP.key}?protocol=8", 4007),  # the version before the app's state
    ],
)
def test_admission_refusals_carry_the_protocol_code_in_pushers_order(path: str, code: int) -> None:
    assert refused_with(decide(upgrade(path))) == code


@pytest.mark.parametrize("version", ["4", "5", "6", "7"])
def test_protocol_versions_four_to_seven_are_served(version: str) -> None:
    assert accepted(decide(upgrade(f"/app/{TEST_APP.key}?protocol={version}"))).admission == TEST_APP


def test_an_origin_the_app_does_not_allow_is_4009() -> None:
    app = dataclasses.replace(TEST_APP, allowed_origins=("https://shop.example",))
    apps = AppRegistry([app])
    path = f"/app/{app.key}?protocol=7"
    assert accepted(decide(upgrade(path, origin="https://shop.example"), apps=apps)).admission == app
    assert refused_with(decide(upgrade(path, origin="https://evil.example"), apps=apps)) == 4009
    assert refused_with(decide(upgrade(path), apps=apps)) == 4009  # no Origin header at all


def test_a_server_shutting_down_says_reconnect_with_4200() -> None:
    assert refused_with(decide(upgrade(f"/app/{TEST_APP.key}?protocol=7"), shutting_down=True)) == 4200


def test_the_server_wide_connection_limit_is_4100_at_the_limit_not_before() -> None:
    path = f"/app/{TEST_APP.key}?protocol=7"
    assert accepted(decide(upgrade(path), connections=1, max_connections=2)).admission == TEST_APP
    assert refused_with(decide(upgrade(path), connections=2, max_connections=2)) == 4100


def test_the_message_limit_is_the_apps_or_the_default_for_an_unknown_key() -> None:
    apps = AppRegistry([SMALL_APP])
    assert SMALL_APP.limits.max_frame_bytes != Limits().max_frame_bytes
    small = accepted(decide(upgrade(f"/app/{SMALL_APP.key}?protocol=7"), apps=apps))
    assert small.max_message_bytes == SMALL_APP.limits.max_frame_bytes
    unknown = accepted(decide(upgrade("/app/unknown?protocol=7"), apps=apps))
    assert unknown.max_message_bytes == Limits().max_frame_bytes

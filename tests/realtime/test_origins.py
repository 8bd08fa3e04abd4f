"""Per-app allowed origins: a page from elsewhere cannot open a socket to the app."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from opbx.configuration import ConfigError
from opbx.protocol.app import App, AppId
from opbx.realtime.config import load_config
from opbx.realtime.server import RealtimeServer
from tests.conftest import ServerFactory
from tests.helpers.apps import TEST_APP
from tests.helpers.scrape import scrape, value

GUARDED = App(
    id=AppId("200"),
    key="guarded-key",
    secret="guarded-secret",
    allowed_origins=("https://app.example.com", "https://*.example.org", "http://localhost:8080"),
)


@pytest.fixture
async def guarded(make_server: ServerFactory) -> RealtimeServer:
    return await make_server(apps=(GUARDED, TEST_APP))


async def first_message(port: int, key: str, origin: str | None) -> tuple[dict[str, object], int | None]:
    """The first message on a new socket sent with ``origin``, and the close code if it was closed."""
    url = f"ws://127.0.0.1:{port}/app/{key}?protocol=7"
    async with websockets.connect(url, origin=Origin(origin) if origin is not None else None) as ws:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if message["event"] != "pusher:error":
            return message, None
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    return message, closed.value.rcvd.code


@pytest.mark.parametrize(
    "origin",
    [
        "https://app.example.com",
        "https://APP.example.com",
        "https://app.example.com:443",
        "https://eu.example.org",
        "https://a.b.example.org",
        "http://localhost:8080",
    ],
)
async def test_allowed_origins_connect(guarded: RealtimeServer, origin: str) -> None:
    message, code = await first_message(guarded.port, GUARDED.key, origin)
    assert message["event"] == "pusher:connection_established"
    assert code is None


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.net",
        "http://app.example.com",  # another scheme
        "https://app.example.com:8443",  # another port
        "https://example.org",  # the wildcard is for subdomains
        "https://evilexample.org",
        "http://localhost",
        "null",
        None,  # no Origin header (not a browser): refused too, as Soketi does
    ],
)
async def test_other_origins_are_refused_with_4009(guarded: RealtimeServer, origin: str | None) -> None:
    message, code = await first_message(guarded.port, GUARDED.key, origin)
    assert message["event"] == "pusher:error"
    assert message["data"] == {"code": 4009, "message": "Origin not allowed"}
    assert code == 4009


async def test_refused_origins_are_not_counted_as_connections(guarded: RealtimeServer) -> None:
    await first_message(guarded.port, GUARDED.key, "https://evil.example.net")
    port = guarded.metrics_port
    assert port is not None
    assert value(await scrape(port), "opbx_connections_opened_total", app_id=GUARDED.id) == 0


async def test_apps_without_a_list_accept_any_origin(guarded: RealtimeServer) -> None:
    for origin in ("https://anywhere.example", None):
        message, _ = await first_message(guarded.port, TEST_APP.key, origin)
        assert message["event"] == "pusher:connection_established"


def write_app(tmp_path: Path, origins: str) -> Path:
    path = tmp_path / "opbx.toml"
    path.write_text(f'[[apps]]\nid = "1"\nkey = "k"\nsecret = "s"\nallowed_origins = {origins}\n')
    return path


def test_allowed_origins_are_read_from_the_app_table(tmp_path: Path) -> None:
    (app,) = load_config(write_app(tmp_path, '["HTTPS://App.Example.com:443", "https://*.example.org"]'), {}).apps
    assert app.allowed_origins == ("https://app.example.com", "https://*.example.org")
    (app,) = load_config(write_app(tmp_path, '["*"]'), {}).apps
    assert app.allowed_origins == ("*",)
    (default,) = load_config(None, {}).apps
    assert default.allowed_origins == ("*",)


@pytest.mark.parametrize(
    "origins",
    ['"https://app.example.com"', "[]", "[1]", '["app.example.com"]', '["https://x.com/path"]', '["https://*.com"]'],
)
def test_bad_allowed_origins_stop_start_up(tmp_path: Path, origins: str) -> None:
    with pytest.raises(ConfigError, match=r"apps\[0\]\.allowed_origins"):
        load_config(write_app(tmp_path, origins), {})

"""Configuration from the environment and TOML; bad settings are named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from opbx.configuration import DEFAULT_APP, ConfigError
from opbx.protocol.webhooks import WebhookKind
from opbx.realtime.config import load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "opbx.toml"
    path.write_text(text)
    return path


def test_defaults_to_the_development_app() -> None:
    config = load_config(None, {})
    assert config.apps == (DEFAULT_APP,)
    assert (config.host, config.port, config.activity_timeout) == ("127.0.0.1", 6001, 120)


def test_environment_app() -> None:
    env = {"OPBX_APP_ID": "7", "OPBX_APP_KEY": "k", "OPBX_APP_SECRET": "s", "OPBX_APP_CLIENT_EVENTS": "true"}
    (app,) = load_config(None, env).apps
    assert (app.id, app.key, app.secret, app.client_events) == ("7", "k", "s", True)


def test_environment_switch_must_be_a_boolean() -> None:
    with pytest.raises(ConfigError, match="OPBX_APP_CLIENT_EVENTS"):
        load_config(None, {"OPBX_APP_CLIENT_EVENTS": "maybe"})


def test_file_with_several_apps_profiles_and_limits(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[server]
port = 7001
activity_timeout = 60

[[apps]]
id = "1"
key = "one"
secret = "s1"
client_events = true

[[apps]]
id = "2"
key = "two"
secret = "s2"
enabled = false
profile = "soketi"
[apps.limits]
max_connections = 50
""",
    )
    config = load_config(path, {})
    assert config.port == 7001
    assert config.activity_timeout == 60
    one, two = config.apps
    assert one.client_events
    assert one.limits.max_event_payload_bytes == 10 * 1024
    assert not two.enabled
    assert two.limits.max_event_payload_bytes == 100 * 1024
    assert two.limits.max_channel_name_length == 200
    assert two.limits.max_connections == 50


def test_file_apps_plus_the_environment_app(tmp_path: Path) -> None:
    path = write(tmp_path, '[[apps]]\nid = "1"\nkey = "one"\nsecret = "s"\n')
    config = load_config(path, {"OPBX_APP_ID": "2", "OPBX_APP_KEY": "two", "OPBX_APP_SECRET": "t"})
    assert [app.id for app in config.apps] == ["1", "2"]


def test_overrides_win() -> None:
    assert load_config(None, {}, port=9000, host=None).port == 9000


HOOK = "[[apps]]\nid = '1'\nkey = 'k'\nsecret = 's'\n[[apps.webhooks]]\n"
"""An app with a webhook target, to be completed."""


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[server]\nport = 'x'\n", "server.port"),
        ("[server]\nport = 70000\n", "server.port"),
        ("[server]\nactivity_timeout = -1\n", "server.activity_timeout"),
        ("[server]\nbogus = 1\n", "server: unknown setting(s) bogus"),
        ("[[apps]]\nid = '1'\nkey = 'k'\n", "apps[0].secret"),
        ("[[apps]]\nid = '1'\nkey = 'k'\nsecret = ''\n", "apps[0].secret"),
        ("[[apps]]\nid = '1'\nkey = 'k'\nsecret = 's'\nenabled = 'yes'\n", "apps[0].enabled"),
        ("[[apps]]\nid = '1'\nkey = 'k'\nsecret = 's'\nprofile = 'ably'\n", "apps[0].profile"),
        ("[[apps]]\nid = '1'\nkey = 'k'\nsecret = 's'\n[apps.limits]\nmax_members = 3\n", "apps[0].limits"),
        ("[[apps]]\nid='1'\nkey='k'\nsecret='s'\n[[apps]]\nid='1'\nkey='j'\nsecret='s'\n", "share the id"),
        ("not toml [", "opbx.toml"),
        ("surprise = 1\n", "config: unknown setting(s) surprise"),
        (
            HOOK + "event_types = ['member_added']\n",
            "apps[0].webhooks[0].url: missing",
        ),
        (
            HOOK + "url = 'ftp://x.example'\n",
            "apps[0].webhooks[0].url",
        ),
        (
            HOOK + "url = 'https://x.example:99999/'\n",
            "apps[0].webhooks[0].url: bad port",
        ),
        (
            HOOK + "url = 'https://x.example'\nevent_types = ['member_joined']\n",
            "unknown event type(s) 'member_joined'",
        ),
        (
            HOOK + "url = 'https://x.example'\nheaders = { X-Pusher-Key = 'k' }\n",
            "set by the server",
        ),
        (
            HOOK + "url = 'https://x.example'\nbatch_ms = -1\n",
            "apps[0].webhooks[0].batch_ms",
        ),
        (
            HOOK + "url = 'https://x.example'\n[[apps.webhooks]]\nurl = 'https://x.example'\n",
            "listed twice",
        ),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(named)):
        load_config(write(tmp_path, text), {})


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml", {})


def test_webhook_targets(tmp_path: Path) -> None:
    text = """[[apps]]
id = "1"
key = "k"
secret = "s"
[[apps.webhooks]]
url = "https://hooks.example.com/pusher"
event_types = ["member_added", "member_removed"]
headers = { Authorization = "Bearer t" }
batch_ms = 250
[[apps.webhooks]]
url = "http://10.0.0.7:8080/all"
"""
    (app,) = load_config(write(tmp_path, text), {}).apps
    first, second = app.webhooks
    assert first.url == "https://hooks.example.com/pusher"
    assert first.event_types == {WebhookKind.MEMBER_ADDED, WebhookKind.MEMBER_REMOVED}
    assert first.headers == (("Authorization", "Bearer t"),)
    assert first.batch_ms == 250
    assert second.event_types == frozenset(WebhookKind)
    assert second.batch_ms == 0


def test_redis_sentinel_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[server]\nredis_sentinels = ['10.0.0.1:26379', 'sentinel-b:26379']\nredis_sentinel_master = 'opbx'\n",
    )
    config = load_config(path, {})
    assert (config.redis_sentinels, config.redis_sentinel_master) == (("10.0.0.1:26379", "sentinel-b:26379"), "opbx")
    env = {"OPBX_REDIS_SENTINELS": "a:1, b:2,c:3", "OPBX_REDIS_SENTINEL_MASTER": "other"}
    assert load_config(path, env).redis_sentinels == ("a:1", "b:2", "c:3")
    assert load_config(path, env).redis_sentinel_master == "other"
    assert (load_config(None, {}).redis_sentinels, load_config(None, {}).redis_sentinel_master) == ((), None)


@pytest.mark.parametrize(
    ("text", "env", "named"),
    [
        ("[server]\nredis_sentinels = ['a:1']\n", {}, "give both or neither"),
        ("[server]\nredis_sentinel_master = 'opbx'\n", {}, "give both or neither"),
        ("", {"OPBX_REDIS_SENTINELS": "a:1"}, "give both or neither"),
        ("[server]\nredis_sentinels = ['a']\nredis_sentinel_master = 'm'\n", {}, "server.redis_sentinels: 'a'"),
        ("[server]\nredis_sentinels = 'a:1'\nredis_sentinel_master = 'm'\n", {}, "server.redis_sentinels"),
        ("[server]\nredis_sentinels = [1]\nredis_sentinel_master = 'm'\n", {}, "server.redis_sentinels"),
        ("[server]\nredis_sentinel_master = ''\n", {}, "server.redis_sentinel_master"),
        ("", {"OPBX_REDIS_SENTINELS": "a:99999", "OPBX_REDIS_SENTINEL_MASTER": "m"}, "OPBX_REDIS_SENTINELS"),
    ],
)
def test_bad_sentinel_settings_are_named(tmp_path: Path, text: str, env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(named)):
        load_config(write(tmp_path, text), env)

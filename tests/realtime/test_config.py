"""Configuration from the environment and TOML; bad settings are named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from opbx.adapters import ADAPTERS
from opbx.configuration import DEFAULT_APP, ConfigError
from opbx.protocol.webhooks import WebhookKind
from opbx.realtime.config import ServerConfig, load_config
from opbx.realtime.config_fields import Given, check, keys


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


def test_the_loader_returns_the_dataclass_defaults_when_nothing_is_set() -> None:
    """Each default is written once, on ServerConfig; the loader adds none of its own."""
    assert load_config(None, {}) == ServerConfig()


def test_every_default_passes_its_own_checks() -> None:
    given = {
        name: Given(getattr(ServerConfig(), name), f"server.{name}")
        for name in keys(ServerConfig)
        if getattr(ServerConfig(), name) is not None
    }
    assert check(ServerConfig, given) == {name: value.value for name, value in given.items()}


def test_the_documented_server_keys_are_the_dataclass_fields() -> None:
    text = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    table = text.split("## `[server]`", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE)
    assert sorted(documented) == sorted(keys(ServerConfig))


def test_later_sources_win(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 7001\nadapter = 'local'\nredis_prefix = 'file'\n")
    config = load_config(path, {"OPBX_ADAPTER": "redis", "OPBX_REDIS_PREFIX": ""}, port=7002)
    assert (config.port, config.adapter, config.redis_prefix) == (7002, "redis", "file")
    assert load_config(None, {"REDIS_URL": "redis://b:6379/0", "OPBX_REDIS_URL": "redis://a:6379/0"}).redis_url == (
        "redis://a:6379/0"
    )


@pytest.mark.parametrize(
    ("env", "overrides", "message"),
    [
        ({}, {"bogus": 1}, "command line: unknown setting(s) bogus"),
        ({}, {"apps": ()}, "command line: unknown setting(s) apps"),
        ({}, {"port": "x"}, "--port: must be an integer from 0 to 65535, not 'x'"),
        ({}, {"port": 70000}, "--port: must be an integer from 0 to 65535, not 70000"),
        ({}, {"metrics_port": -1}, "--metrics-port: must be an integer from 0 to 65535, not -1"),
        ({}, {"log_level": "loud"}, "--log-level: unknown log level 'loud'"),
        ({"OPBX_ADAPTER": "kafka"}, {}, "OPBX_ADAPTER: must be one of local, redis, not 'kafka'"),
        ({"REDIS_URL": "http://cache"}, {}, "REDIS_URL: 'http://cache' is not a Redis URL"),
    ],
)
def test_bad_values_name_their_source(env: dict[str, str], overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(None, env, **overrides)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port = 'x'", "server.port: must be an integer from 0 to 65535, not 'x'"),
        ("port = 70000", "server.port: must be an integer from 0 to 65535, not 70000"),
        ("node_timeout = 0", "server.node_timeout: must be a number above 0, not 0"),
        ("max_connections = true", "server.max_connections: must be an integer above 0, not True"),
        ("accept_traffic_memory_threshold = 100.5", "must be a number above 0 and at most 100, not 100.5"),
        ("host = ''", "server.host: must be a non-empty string, not ''"),
        ("metrics_port = true", "server.metrics_port: must be an integer from 0 to 65535 or false, not True"),
        ("adapter = 'kafka'", "server.adapter: must be one of local, redis, not 'kafka'"),
        ("reuse_port = true", "server: unknown setting(s) reuse_port"),
        ("apps = 1", "server: unknown setting(s) apps"),
    ],
)
def test_bad_file_values_are_named_with_what_is_expected(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(write(tmp_path, f"[server]\n{text}\n"), {})


def test_adapter_names_are_those_of_the_registry() -> None:
    for name in ADAPTERS:
        assert load_config(None, {"OPBX_ADAPTER": name}).adapter == name
    with pytest.raises(ConfigError, match=re.escape(", ".join(ADAPTERS))):
        load_config(None, {"OPBX_ADAPTER": "nats"})


def test_a_log_level_is_read_in_any_case() -> None:
    assert load_config(None, {}, log_level="WARNING").log_level == "warning"

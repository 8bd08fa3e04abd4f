"""Configuration of the realtime server: environment variables and a TOML file.

The default app comes from ``OPBX_APP_ID``, ``OPBX_APP_KEY``, ``OPBX_APP_SECRET`` and
``OPBX_APP_CLIENT_EVENTS``; a TOML file (``--config`` or ``OPBX_CONFIG``) can add
server settings and any number of apps, each with its own limits and switches.
Anything invalid stops start-up with a :class:`ConfigError` naming the setting.
See ``docs/configuration.md`` for every key.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opbx.adapters import ADAPTERS
from opbx.configuration import (
    DEFAULT_APP,
    DEFAULT_REALTIME_PORT,
    ConfigError,
    check_log_level,
    check_redis_url,
    check_sentinels,
    parse_bool,
)
from opbx.protocol.app import PROFILES, App, AppId, InvalidWebhookTarget, Limits, WebhookTarget
from opbx.protocol.origins import InvalidOriginPattern, normalize_origin_pattern
from opbx.realtime.config_fields import (
    NOT_A_SETTING,
    Given,
    check,
    check_keys,
    from_env,
    from_overrides,
    from_table,
    keys,
    setting,
)
from opbx.realtime.tls import TlsError, server_ssl_context

__all__ = ["ServerConfig", "load_config"]

_PORT_RANGE: dict[str, Any] = {"above": None, "at_least": 0, "at_most": 65535}


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything the realtime server needs to start: each field a ``[server]`` key, unless marked.

    Types, defaults and ranges are read from here by :func:`load_config` (see
    :mod:`opbx.realtime.config_fields`); ``docs/configuration.md`` lists them for users.
    """

    host: str = "127.0.0.1"
    port: int = field(default=DEFAULT_REALTIME_PORT, metadata=setting(**_PORT_RANGE))
    """Port of both the WebSocket endpoint and the HTTP API (0: any free port)."""
    apps: tuple[App, ...] = field(default=(DEFAULT_APP,), metadata=NOT_A_SETTING)
    """From ``[[apps]]`` and ``OPBX_APP_*``."""
    adapter: str = field(default="local", metadata=setting(env=("OPBX_ADAPTER",), choices=tuple(ADAPTERS)))
    """``local`` (one process) or ``redis`` (many processes and machines)."""
    redis_url: str = field(
        default="redis://127.0.0.1:6379/0", metadata=setting(env=("OPBX_REDIS_URL", "REDIS_URL"), check=check_redis_url)
    )
    redis_prefix: str = field(default="opbx", metadata=setting(env=("OPBX_REDIS_PREFIX",)))
    """Prefix of every Redis key and channel, so several deployments can share one Redis."""
    redis_sentinels: tuple[str, ...] = field(
        default=(), metadata=setting(env=("OPBX_REDIS_SENTINELS",), check=check_sentinels)
    )
    """``host:port`` of Redis Sentinels; with them Redis is the master they name (failover)."""
    redis_sentinel_master: str | None = field(default=None, metadata=setting(env=("OPBX_REDIS_SENTINEL_MASTER",)))
    """The name the sentinels monitor the master under; needed with ``redis_sentinels``."""
    node_timeout: float = 15.0
    """Seconds after its last heartbeat that a silent node is declared dead and its sockets
    removed from every roster (it sends a heartbeat every third of this)."""
    activity_timeout: int = 120
    """Seconds of silence after which the server pings a client (announced to clients)."""
    pong_timeout: float = 30.0
    """Seconds a pinged client has to answer before it is closed with 4201."""
    max_connections: int | None = None
    """Sockets this process accepts in all; beyond it new ones are closed with 4100."""
    max_backpressure_bytes: int = 1024 * 1024
    """Bytes queued for one slow socket before it is dropped (4100) so others go on."""
    cache_ttl: float = 1800.0
    """Seconds a cache channel remembers its last event (Pusher keeps it 30 minutes)."""
    shutdown_grace: float = 3.0
    """Seconds a shutdown (SIGTERM) gives pending work before the process exits."""
    log_level: str = field(default="info", metadata=setting(check=check_log_level))
    reuse_port: bool = field(default=False, metadata=NOT_A_SETTING)
    """Bind with SO_REUSEPORT, so several worker processes share the port (``--workers``)."""
    metrics_port: int | None = field(default=9601, metadata=setting(**_PORT_RANGE, false_is_none=True))
    """Port of the Prometheus endpoint ``/metrics`` (0: any free port; None, or false in TOML: no
    endpoint). Soketi's metrics port by default, so existing scrape configurations carry over."""
    metrics_host: str | None = None
    """Address of the metrics endpoint; None: the server's ``host``."""
    ssl_cert: str | None = None
    """PEM certificate chain: with ``ssl_key``, the port serves ``wss://`` and ``https://``."""
    ssl_key: str | None = None
    accept_traffic_memory_threshold: float = field(default=85.0, metadata=setting(at_most=100))
    """Percent of the memory the process may use above which ``/accept-traffic`` answers 503."""
    webhook_retry_window: float = 300.0
    """Seconds a failing webhook request is retried (with backoff) before it becomes a dead letter."""


_APP_TABLES = {"allowed_origins", "limits", "webhooks"}
"""Keys of ``[[apps]]`` read by their own parsers; the other fields of App by the generic one."""


def _limits(where: str, table: Mapping[str, object]) -> Limits:
    profile_name = table.get("profile", "pusher")
    if profile_name not in PROFILES:
        raise ConfigError(f"{where}.profile: must be one of {', '.join(PROFILES)}, not {profile_name!r}")
    assert isinstance(profile_name, str)
    overrides = table.get("limits", {})
    if not isinstance(overrides, dict):
        raise ConfigError(f"{where}.limits: must be a table")
    values = check(Limits, from_table(Limits, f"{where}.limits", overrides), f"{where}.limits")
    return dataclasses.replace(PROFILES[profile_name], **values)


def _origins(where: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise ConfigError(f'{where}: must be a non-empty array of origins, like ["https://app.example.com"]')
    try:
        return tuple(normalize_origin_pattern(item) for item in value)
    except InvalidOriginPattern as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _webhooks(where: str, value: object) -> tuple[WebhookTarget, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: must be an array of tables ([[apps.webhooks]])")
    try:
        targets = tuple(WebhookTarget.from_toml(f"{where}[{index}]", table) for index, table in enumerate(value))
    except InvalidWebhookTarget as exc:
        raise ConfigError(str(exc)) from None
    urls = [target.url for target in targets]
    for url in urls:
        if urls.count(url) > 1:
            raise ConfigError(f"{where}: the url {url!r} is listed twice")
    return targets


def _app(where: str, table: object) -> App:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    check_keys(where, table, {*keys(App), "profile"})
    simple = {key: value for key, value in table.items() if key not in _APP_TABLES and key != "profile"}
    values = check(App, from_table(App, where, simple), where)
    values["id"] = AppId(values["id"])
    if "allowed_origins" in table:
        values["allowed_origins"] = _origins(f"{where}.allowed_origins", table["allowed_origins"])
    if "webhooks" in table:
        values["webhooks"] = _webhooks(f"{where}.webhooks", table["webhooks"])
    return App(**values, limits=_limits(where, table))


def _env_app(env: Mapping[str, str]) -> App | None:
    names = ("OPBX_APP_ID", "OPBX_APP_KEY", "OPBX_APP_SECRET", "OPBX_APP_CLIENT_EVENTS")
    if not any(name in env for name in names):
        return None
    values: dict[str, Any] = {}
    for name, attribute in zip(names[:3], ("id", "key", "secret"), strict=True):
        text = env.get(name, getattr(DEFAULT_APP, attribute))
        if not text:
            raise ConfigError(f"{name}: must not be empty")
        values[attribute] = text
    client_events = parse_bool("OPBX_APP_CLIENT_EVENTS", env.get("OPBX_APP_CLIENT_EVENTS", "false"))
    return App(id=AppId(values["id"]), key=values["key"], secret=values["secret"], client_events=client_events)


def _check_unique(apps: tuple[App, ...]) -> None:
    for attribute in ("id", "key"):
        seen: set[str] = set()
        for app in apps:
            value = getattr(app, attribute)
            if value in seen:
                raise ConfigError(f"apps: two apps share the {attribute} {value!r}")
            seen.add(value)


def _read(path: Path) -> dict[str, Any]:
    try:
        document = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    check_keys("config", document, {"server", "apps"})
    if not isinstance(document.get("server", {}), dict):
        raise ConfigError("server: must be a table")
    if not isinstance(document.get("apps", []), list):
        raise ConfigError("apps: must be an array of tables ([[apps]])")
    return document


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None, **overrides: Any) -> ServerConfig:
    """Build the server configuration from a TOML file, the environment and overrides (the command line).

    Later sources win: the file's ``[server]``, then the environment, then the overrides
    that are not None; the merged values are checked once, each error naming the source of
    the value. Apps: those of the file, plus the environment's default app when any
    ``OPBX_APP_*`` variable is set; :data:`DEFAULT_APP` when neither names one.
    """
    env = env if env is not None else {}
    document = _read(path) if path is not None else {}
    given: dict[str, Given] = from_table(ServerConfig, "server", document.get("server", {}))
    given |= from_env(ServerConfig, env)
    given |= from_overrides(ServerConfig, overrides)
    settings = check(ServerConfig, given, "server")
    apps = [_app(f"apps[{index}]", table) for index, table in enumerate(document.get("apps", []))]
    env_app = _env_app(env)
    if env_app is not None:
        apps.append(env_app)
    settings["apps"] = tuple(apps) or (DEFAULT_APP,)
    _check_unique(settings["apps"])
    if bool(settings.get("redis_sentinels")) != bool(settings.get("redis_sentinel_master")):
        raise ConfigError(
            "server.redis_sentinels and server.redis_sentinel_master "
            "(or OPBX_REDIS_SENTINELS and OPBX_REDIS_SENTINEL_MASTER): give both or neither"
        )
    _check_tls(settings.get("ssl_cert"), settings.get("ssl_key"))
    return ServerConfig(**settings)


def _check_tls(cert: str | None, key: str | None) -> None:
    """Both or neither of the certificate and key, and they must load (fail at start-up, not later)."""
    if cert is None and key is None:
        return
    if cert is None or key is None:
        raise ConfigError("server.ssl_cert and server.ssl_key (or --ssl-cert and --ssl-key): give both or neither")
    try:
        server_ssl_context(cert, key)
    except TlsError as exc:
        raise ConfigError(f"server.ssl_cert / server.ssl_key: {exc}") from None

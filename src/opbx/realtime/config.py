"""Configuration of the realtime server: environment variables and a TOML file.

The default app comes from ``OPBX_APP_ID``, ``OPBX_APP_KEY``, ``OPBX_APP_SECRET`` and
``OPBX_APP_CLIENT_EVENTS``; a TOML file (``--config`` or ``OPBX_CONFIG``) can add
server settings and any number of apps, each with its own limits and switches.
Anything invalid stops start-up with a :class:`ConfigError` naming the setting.
See ``docs/configuration.md`` for every key.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from opbx.configuration import DEFAULT_APP, ConfigError, check_log_level, check_redis_url, parse_bool, sentinel_settings
from opbx.protocol.app import PROFILES, App, AppId, Limits, WebhookTarget
from opbx.protocol.origins import InvalidOriginPattern, normalize_origin_pattern
from opbx.protocol.webhooks import WebhookKind
from opbx.realtime.tls import TlsError, server_ssl_context

__all__ = ["ServerConfig", "load_config"]


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything the realtime server needs to start."""

    host: str = "127.0.0.1"
    port: int = 6001
    apps: tuple[App, ...] = (DEFAULT_APP,)
    adapter: str = "local"
    """``local`` (one process) or ``redis`` (many processes and machines)."""
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "opbx"
    """Prefix of every Redis key and channel, so several deployments can share one Redis."""
    redis_sentinels: tuple[str, ...] = ()
    """``host:port`` of Redis Sentinels; with them Redis is the master they name (failover)."""
    redis_sentinel_master: str | None = None
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
    log_level: str = "info"
    reuse_port: bool = False
    """Bind with SO_REUSEPORT, so several worker processes share the port (``--workers``)."""
    metrics_port: int | None = 9601
    """Port of the Prometheus endpoint ``/metrics`` (0: any free port; None: no endpoint)."""
    metrics_host: str | None = None
    """Address of the metrics endpoint; None: the server's ``host``."""
    ssl_cert: str | None = None
    """PEM certificate chain: with ``ssl_key``, the port serves ``wss://`` and ``https://``."""
    ssl_key: str | None = None
    accept_traffic_memory_threshold: float = 85.0
    """Percent of the memory the process may use above which ``/accept-traffic`` answers 503."""
    webhook_retry_window: float = 300.0
    """Seconds a failing webhook request is retried (with backoff) before it becomes a dead letter."""


_SERVER_KEYS = {
    "host": str,
    "port": int,
    "adapter": str,
    "redis_url": str,
    "redis_prefix": str,
    "redis_sentinel_master": str,
    "node_timeout": float,
    "activity_timeout": int,
    "pong_timeout": float,
    "max_connections": int,
    "max_backpressure_bytes": int,
    "cache_ttl": float,
    "shutdown_grace": float,
    "log_level": str,
    "metrics_host": str,
    "ssl_cert": str,
    "ssl_key": str,
    "accept_traffic_memory_threshold": float,
    "webhook_retry_window": float,
}
_SPECIAL_SERVER_KEYS = {"metrics_port", "redis_sentinels"}
_APP_KEYS = {
    "id": str,
    "key": str,
    "secret": str,
    "enabled": bool,
    "client_events": bool,
    "subscription_count_events": bool,
    "user_authentication_timeout": float,
}
_LIMIT_KEYS = {f.name: int for f in dataclasses.fields(Limits)}


def _typed(where: str, value: object, kind: type) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: must be true or false, not {value!r}")
        return value
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(f"{where}: must be {kind.__name__}, not {value!r}")
    if isinstance(value, int | float) and value <= 0 and not where.endswith(".port"):
        raise ConfigError(f"{where}: must be positive, not {value!r}")
    if kind is str and not value:
        raise ConfigError(f"{where}: must not be empty")
    return value


def _check_keys(where: str, table: Mapping[str, object], allowed: Mapping[str, type], extra: set[str]) -> None:
    unknown = set(table) - set(allowed) - extra
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")


def _limits(where: str, table: Mapping[str, object]) -> Limits:
    profile_name = table.get("profile", "pusher")
    if profile_name not in PROFILES:
        raise ConfigError(f"{where}.profile: must be one of {', '.join(PROFILES)}, not {profile_name!r}")
    assert isinstance(profile_name, str)
    overrides = table.get("limits", {})
    if not isinstance(overrides, dict):
        raise ConfigError(f"{where}.limits: must be a table")
    _check_keys(f"{where}.limits", overrides, _LIMIT_KEYS, set())
    values = {key: _typed(f"{where}.limits.{key}", value, int) for key, value in overrides.items()}
    return dataclasses.replace(PROFILES[profile_name], **values)


def _metrics_port(where: str, value: object) -> int | None:
    """``metrics_port``: a port number (0: any free port), or false for no metrics endpoint."""
    if value is False:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
        raise ConfigError(f"{where}: must be a port number (0 to 65535) or false, not {value!r}")
    return value


def _origins(where: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise ConfigError(f'{where}: must be a non-empty array of origins, like ["https://app.example.com"]')
    try:
        return tuple(normalize_origin_pattern(item) for item in value)
    except InvalidOriginPattern as exc:
        raise ConfigError(f"{where}: {exc}") from None


_WEBHOOK_KEYS = {"url": str, "event_types": list, "headers": dict, "batch_ms": int}
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_RESERVED_HEADERS = {"content-type", "content-length", "host", "x-pusher-key", "x-pusher-signature"}
"""Headers the sender sets itself: a target's ``headers`` may not replace them."""


def _webhook_url(where: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: must be an http or https URL, not {value!r}")
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ConfigError(f"{where}: bad port in {value!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ConfigError(f"{where}: must be an http or https URL, not {value!r}")
    return value


def _webhook_kinds(where: str, value: object) -> frozenset[WebhookKind]:
    names = ", ".join(kind.value for kind in WebhookKind)
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: must be a non-empty array of event names ({names})")
    unknown = [item for item in value if item not in {kind.value for kind in WebhookKind}]
    if unknown:
        raise ConfigError(f"{where}: unknown event type(s) {', '.join(map(repr, unknown))}; known: {names}")
    return frozenset(WebhookKind(item) for item in value)


def _webhook_headers(where: str, value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: must be a table of header names to values")
    for name, text in value.items():
        if not _HEADER_NAME.fullmatch(name):
            raise ConfigError(f"{where}: {name!r} is not a valid header name")
        if name.lower() in _RESERVED_HEADERS:
            raise ConfigError(f"{where}.{name}: set by the server, cannot be replaced")
        if not isinstance(text, str) or any(c in text for c in "\r\n\0"):
            raise ConfigError(f"{where}.{name}: must be a string on one line")
    return tuple(value.items())


def _webhook_target(where: str, table: object) -> WebhookTarget:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    _check_keys(where, table, _WEBHOOK_KEYS, set())
    if "url" not in table:
        raise ConfigError(f"{where}.url: missing")
    target = WebhookTarget(url=_webhook_url(f"{where}.url", table["url"]))
    if "event_types" in table:
        target = dataclasses.replace(target, event_types=_webhook_kinds(f"{where}.event_types", table["event_types"]))
    if "headers" in table:
        target = dataclasses.replace(target, headers=_webhook_headers(f"{where}.headers", table["headers"]))
    if "batch_ms" in table:
        batch_ms = table["batch_ms"]
        if not isinstance(batch_ms, int) or isinstance(batch_ms, bool) or batch_ms < 0:
            raise ConfigError(f"{where}.batch_ms: must be an integer, 0 or more, not {batch_ms!r}")
        target = dataclasses.replace(target, batch_ms=batch_ms)
    return target


def _webhooks(where: str, value: object) -> tuple[WebhookTarget, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: must be an array of tables ([[apps.webhooks]])")
    targets = tuple(_webhook_target(f"{where}[{index}]", table) for index, table in enumerate(value))
    urls = [target.url for target in targets]
    for url in urls:
        if urls.count(url) > 1:
            raise ConfigError(f"{where}: the url {url!r} is listed twice")
    return targets


def _app(where: str, table: Mapping[str, object]) -> App:
    _check_keys(where, table, _APP_KEYS, {"profile", "limits", "allowed_origins", "webhooks"})
    for required in ("id", "key", "secret"):
        if required not in table:
            raise ConfigError(f"{where}.{required}: missing")
    values = {key: _typed(f"{where}.{key}", value, _APP_KEYS[key]) for key, value in table.items() if key in _APP_KEYS}
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


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None, **overrides: Any) -> ServerConfig:
    """Build the server configuration from a TOML file, the environment and overrides.

    Apps: those of the file, plus the environment's default app when any ``OPBX_APP_*``
    variable is set; :data:`DEFAULT_APP` when neither names one.
    """
    env = env if env is not None else {}
    document: dict[str, Any] = {}
    if path is not None:
        try:
            document = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {path}: not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from None
    _check_keys("config", document, {"server": dict, "apps": list}, set())
    server = document.get("server", {})
    if not isinstance(server, dict):
        raise ConfigError("server: must be a table")
    _check_keys("server", server, _SERVER_KEYS, _SPECIAL_SERVER_KEYS)
    settings = {
        key: _typed(f"server.{key}", value, _SERVER_KEYS[key])
        for key, value in server.items()
        if key not in _SPECIAL_SERVER_KEYS
    }
    if "metrics_port" in server:
        settings["metrics_port"] = _metrics_port("server.metrics_port", server["metrics_port"])
    raw_apps = document.get("apps", [])
    if not isinstance(raw_apps, list):
        raise ConfigError("apps: must be an array of tables ([[apps]])")
    apps = [_app(f"apps[{index}]", table) for index, table in enumerate(raw_apps)]
    for name, key in (("OPBX_ADAPTER", "adapter"), ("OPBX_REDIS_PREFIX", "redis_prefix")):
        if env.get(name):
            settings[key] = env[name]
    settings.update(sentinel_settings(server, env))
    redis_url = env.get("OPBX_REDIS_URL") or env.get("REDIS_URL")
    if redis_url:
        settings["redis_url"] = redis_url
    if settings.get("adapter", "local") not in ("local", "redis"):
        raise ConfigError(f"server.adapter (or OPBX_ADAPTER): must be local or redis, not {settings['adapter']!r}")
    env_app = _env_app(env)
    if env_app is not None:
        apps.append(env_app)
    if not apps:
        apps.append(DEFAULT_APP)
    settings["apps"] = tuple(apps)
    _check_unique(settings["apps"])
    for key, value in overrides.items():
        if value is not None:
            settings[key] = value
    settings["log_level"] = check_log_level("server.log_level (or --log-level)", settings.get("log_level", "info"))
    if "redis_url" in settings:
        check_redis_url("server.redis_url (or OPBX_REDIS_URL)", settings["redis_url"])
    port = settings.get("port", 6001)
    if not 0 <= port <= 65535:
        raise ConfigError(f"server.port: must be between 0 and 65535, not {port}")
    metrics_port = settings.get("metrics_port")
    if metrics_port is not None:
        _metrics_port("server.metrics_port (or --metrics-port)", metrics_port)
    if not settings.get("accept_traffic_memory_threshold", 85.0) <= 100:
        raise ConfigError("server.accept_traffic_memory_threshold: must be a percentage, at most 100")
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

"""Settings of the call-presence backend, from the environment.

* ``DATABASE_URL`` (or ``OPBX_DATABASE_URL``): SQLite file or PostgreSQL;
  default ``sqlite:///var/opbx.sqlite3``.
* ``OPBX_BROADCAST_DRIVER``: ``inprocess`` (default of ``opbx serve``), ``pusher`` (default of
  ``opbx api``), ``log`` or ``null``.
* ``OPBX_PUSHER_URLS`` (or ``OPBX_PUSHER_URL``): the realtime servers' HTTP API for the
  ``pusher`` driver, comma-separated, tried in order with failover; default ``http://127.0.0.1:6001``.
* ``OPBX_APP_ID`` / ``OPBX_APP_KEY`` / ``OPBX_APP_SECRET``: the realtime app events go to and
  channel authorizations are signed for; default the development app.
* ``OPBX_API_HOST`` / ``OPBX_API_PORT``: where the API and dashboard listen; ``127.0.0.1:8000``.
* ``OPBX_WS_HOST`` / ``OPBX_WS_PORT`` / ``OPBX_WS_TLS``: where browsers reach the realtime
  server; default the API's host name, 6001, no TLS.
* ``REDIS_URL`` (or ``OPBX_REDIS_URL``): checked by the health endpoint when set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from opbx.configuration import DEFAULT_APP, DEFAULT_REALTIME_PORT, ConfigError, parse_bool
from opbx.db.engine import DEFAULT_DATABASE_URL, check_database_url
from opbx.parsing import parse_bounded_int
from opbx.protocol.app import App, AppId

__all__ = ["DRIVERS", "BackendSettings"]

DRIVERS = ("inprocess", "pusher", "log", "null")


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if not text:
        return default
    try:
        return parse_bounded_int(text, 0, 65535)
    except ValueError:
        raise ConfigError(f"{name}: must be a port number, not {text!r}") from None


def _check_realtime_url(name: str, url: str) -> None:
    """A realtime server's base URL, as the ``pusher`` driver's client takes it, or a ConfigError naming it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}: {url!r} is not an http:// or https:// URL of a realtime server")
    try:
        parts.port  # noqa: B018  # raises on a port that is not one
    except ValueError:
        raise ConfigError(f"{name}: {url!r} has a port that is not a number from 0 to 65535") from None
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            f"{name}: {url!r} names a realtime server with a query, a fragment or credentials; "
            "give its scheme, host, port and path only (the app's key and secret sign each request)"
        )


def _urls(env: Mapping[str, str], default: tuple[str, ...]) -> tuple[str, ...]:
    name = "OPBX_PUSHER_URLS" if env.get("OPBX_PUSHER_URLS") else "OPBX_PUSHER_URL"
    text = env.get(name)
    if not text:
        return default
    urls = tuple(url.strip() for url in text.split(",") if url.strip())
    for url in urls:
        _check_realtime_url(name, url)
    if not urls:
        raise ConfigError(f"{name}: name at least one realtime server URL")
    return urls


@dataclass(frozen=True, slots=True)
class BackendSettings:
    database_url: str = DEFAULT_DATABASE_URL
    broadcast_driver: str = "inprocess"
    pusher_urls: tuple[str, ...] = (f"http://127.0.0.1:{DEFAULT_REALTIME_PORT}",)
    app: App = DEFAULT_APP
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    ws_host: str | None = None
    ws_port: int = DEFAULT_REALTIME_PORT
    ws_tls: bool = False
    redis_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, default_driver: str = "inprocess") -> BackendSettings:
        """The settings the environment names; the others are this class's defaults."""
        defaults = cls()
        driver = env.get("OPBX_BROADCAST_DRIVER", default_driver)
        if driver not in DRIVERS:
            raise ConfigError(f"OPBX_BROADCAST_DRIVER: must be one of {', '.join(DRIVERS)}, not {driver!r}")
        credentials = {}
        for name, default in (
            ("OPBX_APP_ID", DEFAULT_APP.id),
            ("OPBX_APP_KEY", DEFAULT_APP.key),
            ("OPBX_APP_SECRET", DEFAULT_APP.secret),
        ):
            credentials[name] = env.get(name, default)
            if not credentials[name]:
                raise ConfigError(f"{name}: must not be empty")
        app = App(
            id=AppId(credentials["OPBX_APP_ID"]),
            key=credentials["OPBX_APP_KEY"],
            secret=credentials["OPBX_APP_SECRET"],
        )
        tls = parse_bool("OPBX_WS_TLS", env.get("OPBX_WS_TLS", "false"))
        return cls(
            database_url=check_database_url(
                env.get("DATABASE_URL") or env.get("OPBX_DATABASE_URL") or DEFAULT_DATABASE_URL
            ),
            broadcast_driver=driver,
            pusher_urls=_urls(env, defaults.pusher_urls),
            app=app,
            api_host=env.get("OPBX_API_HOST", defaults.api_host),
            api_port=_port(env, "OPBX_API_PORT", defaults.api_port),
            ws_host=env.get("OPBX_WS_HOST") or None,
            ws_port=_port(env, "OPBX_WS_PORT", defaults.ws_port),
            ws_tls=tls,
            redis_url=env.get("REDIS_URL") or env.get("OPBX_REDIS_URL") or None,
        )

"""What the configuration of every process shares: its error type, the development app, the
checks of settings both sides read, and how secrets are shown.

The realtime server (:mod:`opbx.realtime.config`) and the backend (:mod:`opbx.api.settings`)
both build on this module, so neither imports the other. A :class:`ConfigError` (or a
:class:`StartupError`, for what only shows when a process starts) is reported by the ``opbx``
command as one line naming the setting and the fix, with exit status 2.
"""

from __future__ import annotations

import errno
import ipaddress
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from opbx.protocol.app import App, AppId

__all__ = [
    "DEFAULT_APP",
    "DEFAULT_REALTIME_PORT",
    "LOG_LEVELS",
    "REDIS_SCHEMES",
    "ConfigError",
    "StartupError",
    "check_log_level",
    "check_redis_url",
    "check_sentinels",
    "is_loopback",
    "mask_secret",
    "mask_url",
    "parse_bool",
    "port_in_use",
    "uses_development_secret",
]

DEFAULT_APP = App(id=AppId("1"), key="opbx-key", secret="opbx-secret")  # noqa: S106 - dev default
"""The development app: the seed's key and secret, and a numeric id because the Pusher
server SDKs (Python's among them) refuse app ids that are not digits. Its secret is
published, so a server reachable from other machines refuses to start with it unless told to."""

DEFAULT_REALTIME_PORT = 6001
"""Where the realtime server listens and the backend looks for it (Soketi's port, so clients carry over)."""

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
REDIS_SCHEMES = ("redis", "rediss", "unix")


class ConfigError(ValueError):
    """A bad setting; the message names it and, where it is not obvious, the fix."""


class StartupError(ConfigError):
    """Settings that are well-formed but cannot be used: a port in use, a database that does not answer."""


def port_in_use(error: OSError, host: str, port: int, setting: str) -> StartupError | None:
    """A StartupError for a bind that failed because the address is taken (None for other errors)."""
    if error.errno != errno.EADDRINUSE:
        return None
    return StartupError(
        f"{setting}: {host}:{port} is already in use; stop the process listening there or choose another port"
    )


def parse_bool(where: str, text: str) -> bool:
    """An environment switch: true/false, 1/0, yes/no, on/off (empty is false); anything else refused."""
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{where}: must be true or false, not {text!r}")


def check_log_level(where: str, value: str) -> str:
    """The level lower-cased, or a ConfigError naming the choices."""
    level = value.strip().lower()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{where}: unknown log level {value!r}; use one of {', '.join(LOG_LEVELS)}")
    return level


def check_redis_url(where: str, url: str) -> str:
    """A Redis URL as redis-py takes it: ``redis://``, ``rediss://`` (TLS) or ``unix://``."""
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        raise ConfigError(
            f"{where}: {mask_url(url)!r} is not a Redis URL; write redis://host:6379/0 "
            "(rediss:// for TLS, unix:///path for a socket)"
        )
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ConfigError(f"{where}: bad port in {mask_url(url)!r}") from None
    if parts.scheme != "unix" and not parts.hostname:
        raise ConfigError(f"{where}: {mask_url(url)!r} names no host; write redis://host:6379/0")
    return url


def check_sentinels(where: str, value: object) -> tuple[str, ...]:
    """Redis Sentinel addresses, ``host:port`` each (a TOML array of strings)."""
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: must be a list of host:port, not {value!r}")
    addresses = tuple(item.strip() for item in value if item.strip())
    for address in addresses:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"{where}: {address!r} is not host:port")
    return addresses


def mask_secret(secret: str) -> str:
    """Enough of a secret to tell two apart, never enough to use: ``ab…(24 chars)``."""
    if len(secret) < 8:
        return "***"
    return f"{secret[:2]}…({len(secret)} chars)"


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for banners and messages)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if not password:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    masked = SplitResult(parts.scheme, f"{user}:***@{netloc[-1]}", parts.path, parts.query, parts.fragment)
    return masked.geturl()


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def uses_development_secret(apps: Iterable[App]) -> bool:
    """Does any app sign with the published development secret?"""
    return any(app.secret == DEFAULT_APP.secret for app in apps)

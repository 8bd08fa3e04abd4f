"""Which web origins may open WebSocket connections to an app (its ``allowed_origins``).

A pattern is ``*`` (any origin, the default), an exact origin such as
``https://app.example.com`` or ``http://localhost:8080``, or a wildcard subdomain such as
``https://*.example.com`` (any subdomain at any depth, not ``example.com`` itself). Scheme
and host compare without regard to case; a default port (80 for http, 443 for https) may
be written or left out. When an app lists origins, a connection whose ``Origin`` header
matches none of them, or that sends none (non-browser clients), is refused, as Soketi
does: non-browser clients of such an app must send an allowed ``Origin``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["ANY_ORIGIN", "InvalidOriginPattern", "normalize_origin_pattern", "origin_allowed"]

ANY_ORIGIN = "*"

_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidOriginPattern(ValueError):
    pass


def _split(origin: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of an origin, the default port left out; None if malformed."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if not parts.scheme or not host or parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    scheme = parts.scheme.lower()
    if port == _DEFAULT_PORTS.get(scheme):
        port = None
    return scheme, host.lower(), port


def normalize_origin_pattern(pattern: str) -> str:
    """``pattern`` checked and written canonically (lower case, no default port)."""
    if pattern.strip() == ANY_ORIGIN:
        return ANY_ORIGIN
    split = _split(pattern)
    if split is None:
        raise InvalidOriginPattern(f"{pattern!r} is not '*' or an origin like https://app.example.com")
    scheme, host, port = split
    labels = host.split(".")
    if "*" in host and (labels[0] != "*" or len(labels) < 3 or "*" in ".".join(labels[1:])):
        raise InvalidOriginPattern(f"{pattern!r}: a wildcard stands for subdomains only, as in https://*.example.com")
    return f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"


def origin_allowed(patterns: tuple[str, ...], origin: str | None) -> bool:
    """Whether ``origin`` (the request's ``Origin`` header) matches one of ``patterns`` (normalized)."""
    if ANY_ORIGIN in patterns:
        return True
    if origin is None:
        return False
    split = _split(origin)
    if split is None:
        return False
    scheme, host, port = split
    for pattern in patterns:
        allowed = _split(pattern)
        if allowed is None or allowed[0] != scheme or allowed[2] != port:
            continue
        if host == allowed[1] or (allowed[1].startswith("*.") and host.endswith(allowed[1][1:])):
            return True
    return False

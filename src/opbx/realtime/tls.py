"""TLS on the server's port: ``wss://`` and ``https://`` with a certificate and key in PEM files."""

from __future__ import annotations

import ssl
from pathlib import Path

__all__ = ["TlsError", "server_ssl_context"]


class TlsError(ValueError):
    """The certificate or key cannot be used; the message says why."""


def server_ssl_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    """A server context for ``cert_file`` (the chain, leaf first) and its ``key_file``.

    Python's defaults for servers: TLS 1.2 or newer, no compression, the system's ciphers.
    ALPN offers HTTP/1.1 only, the one protocol this port speaks.
    """
    for kind, path in (("certificate", cert_file), ("key", key_file)):
        if not Path(path).is_file():
            raise TlsError(f"the {kind} file {path} does not exist; give the path of a PEM file")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.set_alpn_protocols(["http/1.1"])
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"cannot load the certificate {cert_file} with the key {key_file}: {exc}") from None
    return context

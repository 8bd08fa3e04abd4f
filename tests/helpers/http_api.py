"""A signed client of the Pusher HTTP API, for requests the SDK will not make (bad ones)."""

from __future__ import annotations

import asyncio
import http.client
import json
import ssl
import time
from typing import Any
from urllib.parse import urlencode

from opbx.protocol.signing import body_md5, request_signature


def signed_request(
    port: int,
    method: str,
    path: str,
    *,
    key: str,
    secret: str,
    body: bytes = b"",
    params: dict[str, str] | None = None,
    timestamp: int | None = None,
    tamper: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> tuple[int, Any]:
    """Sign and send one request; ``tamper`` overrides parameters after signing; HTTPS with ``context``."""
    query = dict(params or {})
    query.update(
        auth_key=key,
        auth_timestamp=str(timestamp if timestamp is not None else int(time.time())),
        auth_version="1.0",
    )
    if body:
        query["body_md5"] = body_md5(body)
    query["auth_signature"] = request_signature(secret, method, path, query)
    query.update(tamper or {})
    connection = (
        http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        if context is None
        else http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    )
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        connection.request(method, f"{path}?{urlencode(query)}", body=body or None, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else None
    finally:
        connection.close()


async def api_request(port: int, method: str, path: str, **options: Any) -> tuple[int, Any]:
    """:func:`signed_request` off the event loop, so an in-process server can answer."""
    return await asyncio.to_thread(signed_request, port, method, path, **options)

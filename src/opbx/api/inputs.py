"""Reading request bodies: JSON or form-encoded, size-limited, with clear 4xx answers.

A client that hangs up before its whole body has arrived is one info line (how much had
arrived), and the request ends there: no answer can reach it, and it is no error of ours.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from opbx.api.errors import ApiProblem
from opbx.parsing import parse_bounded_int

__all__ = [
    "CLIENT_CLOSED_REQUEST",
    "MAX_BODY_BYTES",
    "handle_client_disconnect",
    "json_object",
    "json_or_form",
    "limited_body",
    "query_int",
]

MAX_BODY_BYTES = 256 * 1024
CLIENT_CLOSED_REQUEST = 499
"""nginx's status for a request whose client went away first: what the access line says of it."""

log = logging.getLogger("opbx.api.inputs")


async def limited_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refusing more than ``limit`` bytes with 413 (without reading it all)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiProblem(413, f"Body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiProblem(413, f"Body larger than {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        expected = f" of {declared}" if declared is not None and declared.isdigit() else ""
        log.info("client hung up before sending the whole body (%d%s bytes arrived)", size, expected)
        raise
    return b"".join(chunks)


async def handle_client_disconnect(request: Request, exc: Exception) -> Response:
    """The client is gone: end the request quietly (nothing reaches it; the access line says 499)."""
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def json_object(request: Request) -> dict[str, Any]:
    body = await limited_body(request)
    try:
        decoded = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        raise ApiProblem(400, "Body is not valid JSON") from None
    if not isinstance(decoded, dict):
        raise ApiProblem(400, "Body must be a JSON object")
    return decoded


async def json_or_form(request: Request) -> dict[str, Any]:
    """pusher-js posts form-encoded bodies; laravel-echo authorizers often post JSON."""
    if request.headers.get("content-type", "").startswith("application/json"):
        return await json_object(request)
    body = await limited_body(request)
    return dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter (absent or empty: ``default``), else 422 naming the range."""
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        return parse_bounded_int(text, low, high)
    except ValueError:
        raise ApiProblem(422, f"'{name}' must be a whole number from {low} to {high}") from None

"""Reading request bodies: JSON or form-encoded, size-limited, with clear 4xx answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

from opbx.api.errors import ApiProblem

__all__ = ["MAX_BODY_BYTES", "json_object", "json_or_form", "limited_body"]

MAX_BODY_BYTES = 256 * 1024


async def limited_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refusing more than ``limit`` bytes with 413 (without reading it all)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiProblem(413, f"Body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiProblem(413, f"Body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


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

"""The API's routes as declarations: one :class:`Operation` per method and path.

Each handler module lists its operations (``OPERATIONS``); :mod:`opbx.api.app` builds the
Starlette routes from them and :mod:`opbx.api.openapi` the OpenAPI 3.1 document, so the
routes and their description cannot drift apart. Bodies and answers are msgspec Structs:
the same types decode the requests, encode the answers and give the document its schemas.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from opbx.api.errors import ApiProblem
from opbx.parsing import MAX_RECORD_ID, parse_record_id

__all__ = [
    "ID_SCHEMA",
    "Auth",
    "Endpoint",
    "ErrorBody",
    "Operation",
    "Parameter",
    "RecordId",
    "decode_json",
    "id_parameter",
    "json_response",
    "path_id",
]

Endpoint = Callable[[Request], Awaitable[Response]]
T = TypeVar("T")


class Auth(StrEnum):
    """How a caller proves who they are."""

    BEARER = "bearer"
    """``Authorization: Bearer <token>`` from ``POST /api/v1/auth/login``."""
    WEBHOOK = "webhook"
    """``X-Cloudonix-Signature``: HMAC-SHA256 of the body with the organization's webhook secret."""
    NONE = "none"


class ErrorBody(msgspec.Struct, frozen=True):
    """Every error answer: the message, and the HTTP status repeated."""

    error: str
    status: int


@dataclass(frozen=True, slots=True)
class Parameter:
    """A path, query or header parameter."""

    name: str
    location: str
    """``path``, ``query`` or ``header``."""
    schema: Mapping[str, Any]
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class Operation:
    """One method on one path: its handler, what it takes and what it answers."""

    method: str
    path: str
    """OpenAPI style: ``/api/v1/users/{user_id}``; the Starlette route uses the same text."""
    endpoint: Endpoint
    summary: str
    tag: str
    responses: Mapping[int, Any]
    """Status to the type of the JSON answer (``None``: no JSON body)."""
    auth: Auth = Auth.BEARER
    body: Any = None
    """The type of the JSON request body, or None."""
    body_media_types: tuple[str, ...] = ("application/json",)
    errors: tuple[int, ...] = ()
    """Error statuses beyond those the auth and the body imply."""
    parameters: tuple[Parameter, ...] = ()
    description: str = ""
    media_type: str = "application/json"
    """Of the success answers (``text/html`` for pages)."""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def error_statuses(self) -> list[int]:
        statuses = set(self.errors)
        if self.auth is Auth.BEARER:
            statuses.add(401)
        if self.body is not None:
            statuses.update((400, 413, 422))
        if any(parameter.location == "path" for parameter in self.parameters):
            statuses.add(404)
        return sorted(statuses)


ID_SCHEMA: Mapping[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_RECORD_ID}
RecordId = Annotated[int, msgspec.Meta(ge=1, le=MAX_RECORD_ID)]
"""An id in a JSON body: within the database's integer range."""


def id_parameter(name: str, what: str) -> Parameter:
    return Parameter(name, "path", ID_SCHEMA, f"The {what}'s id.", required=True)


def path_id(request: Request, name: str, what: str) -> int:
    """A record id from the path; anything but canonical decimal is a 404 (no such record)."""
    text: str = request.path_params[name]
    try:
        return parse_record_id(text)
    except ValueError:
        raise ApiProblem(404, f"No {what} {text[:20]!r}") from None


def decode_json(body: bytes, kind: type[T]) -> T:
    """The body as ``kind``: 400 when it is not JSON, 422 naming the field that is wrong."""
    try:
        return msgspec.json.decode(body or b"{}", type=kind)
    except msgspec.ValidationError as exc:
        raise ApiProblem(422, f"Invalid body: {exc}") from None
    except msgspec.DecodeError:
        raise ApiProblem(400, "Body is not valid JSON") from None


def json_response(value: object, status: int = 200) -> Response:
    return Response(msgspec.json.encode(value), status_code=status, media_type="application/json")

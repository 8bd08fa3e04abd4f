"""The OpenAPI 3.1 document of the API, built from the operations the app serves.

Spec: https://spec.openapis.org/oas/v3.1.0. Schemas come from the msgspec Structs the
handlers decode and encode (JSON Schema 2020-12, which OpenAPI 3.1 uses as is).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import msgspec

from opbx.api.contract import Auth, ErrorBody, Operation, Parameter

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{name}"
_SECURITY: dict[Auth, list[dict[str, list[str]]]] = {
    Auth.BEARER: [{"bearerToken": []}],
    Auth.WEBHOOK: [{"cloudonixSignature": []}],
    Auth.NONE: [],
}
_SCHEMES = {
    "bearerToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The token of POST /api/v1/auth/login; it expires after 7 days.",
    },
    "cloudonixSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Cloudonix-Signature",
        "description": "Hex HMAC-SHA256 of the raw body with the organization's webhook secret.",
    },
}
_DESCRIPTION = """The OpBX call-presence API: sign-in, channel authorization for pusher-js and
laravel-echo, the call log, the organization's directory, and the provider's webhooks.

Every error is `{"error": message, "status": code}` with that HTTP status. Times are UTC,
ISO 8601 with milliseconds. Live call events travel over the Pusher protocol on
`presence-org.{id}`: `call.initiated`, `call.ringing`, `call.answered`, `call.ended`."""


def _schemas(operations: Sequence[Operation]) -> tuple[dict[Any, Any], dict[str, Any]]:
    """Each body and answer type's schema (a reference), and the components they refer to."""
    types: list[Any] = [ErrorBody]
    for operation in operations:
        if operation.body is not None:
            types.append(operation.body)
        types.extend(kind for kind in operation.responses.values() if kind is not None)
    unique = list(dict.fromkeys(types))
    refs, components = msgspec.json.schema_components(unique, ref_template=_REF)
    return dict(zip(unique, refs, strict=True)), components


def _parameter(parameter: Parameter) -> dict[str, Any]:
    return {
        "name": parameter.name,
        "in": parameter.location,
        "required": parameter.required,
        "description": parameter.description,
        "schema": dict(parameter.schema),
    }


def _operation(operation: Operation, refs: Mapping[Any, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, kind in operation.responses.items():
        answer: dict[str, Any] = {"description": HTTPStatus(status).phrase}
        if kind is not None:
            answer["content"] = {operation.media_type: {"schema": refs[kind]}}
        elif operation.media_type != "application/json":
            answer["content"] = {operation.media_type: {"schema": {"type": "string"}}}
        responses[str(status)] = answer
    for status in operation.error_statuses():
        responses.setdefault(
            str(status),
            {"description": HTTPStatus(status).phrase, "content": {"application/json": {"schema": refs[ErrorBody]}}},
        )
    described: dict[str, Any] = {
        "operationId": operation.endpoint.__name__,
        "summary": operation.summary,
        "tags": [operation.tag],
        "security": _SECURITY[operation.auth],
        "responses": responses,
    }
    if operation.description:
        described["description"] = operation.description
    if operation.parameters:
        described["parameters"] = [_parameter(parameter) for parameter in operation.parameters]
    if operation.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {media: {"schema": refs[operation.body]} for media in operation.body_media_types},
        }
    return described


def openapi_document(operations: Sequence[Operation], version: str) -> dict[str, Any]:
    refs, components = _schemas(operations)
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "OpBX API", "version": version, "description": _DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": _SCHEMES},
    }

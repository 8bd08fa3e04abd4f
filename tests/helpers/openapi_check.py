"""Every answer of the API checked against its own OpenAPI document, in every API test.

The document is the contract: an answer with a status the operation does not declare, or
a JSON body its schema does not accept, fails the test that received it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from opbx import __version__
from opbx.api.app import DASHBOARD, api_operations
from opbx.api.openapi import openapi_document
from opbx.api.reference import reference_operations

__all__ = ["ContractViolation", "check_response", "check_response_hook", "document"]


class ContractViolation(AssertionError):
    pass


@cache
def document() -> dict[str, Any]:
    operations = (*api_operations(), DASHBOARD)
    return openapi_document([*operations, *reference_operations(operations)], __version__)


@cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = DRAFT202012.create_resource(document())
    registry: Registry[Any] = Registry().with_resource("urn:opbx-openapi", resource)
    return registry


def _matches(template: str, path: str) -> bool:
    """``/api/v1/users/{user_id}`` matches ``/api/v1/users/7``; fixed segments must be equal."""
    wanted, given = template.split("/"), path.split("/")
    return len(wanted) == len(given) and all(
        part == actual or (part.startswith("{") and part.endswith("}") and actual)
        for part, actual in zip(wanted, given, strict=True)
    )


def _operation(method: str, path: str) -> dict[str, Any] | None:
    paths = document()["paths"]
    exact = [template for template in paths if template == path]
    for template in exact or [template for template in paths if _matches(template, path)]:
        described: dict[str, Any] | None = paths[template].get(method.lower())
        if described is not None:
            return described
    return None


def check_response(response: httpx.Response) -> None:
    """Raise ContractViolation unless ``response`` is one its operation declares."""
    request = response.request
    method = "GET" if request.method == "HEAD" else request.method
    path = request.url.path
    operation = _operation(method, path)
    if operation is None and method == "GET" and not path.startswith(("/api/", "/webhooks/")):
        operation = _operation(method, "/")  # the dashboard's own paths: the page is served for each
    if operation is None:
        if response.status_code in (404, 405):
            return  # no such route: the router's answer
        raise ContractViolation(f"{request.method} {request.url.path} answered {response.status_code} undocumented")
    answer = operation["responses"].get(str(response.status_code))
    if answer is None:
        raise ContractViolation(
            f"{request.method} {request.url.path}: status {response.status_code} is not declared "
            f"({', '.join(operation['responses'])}); body {response.text[:200]}"
        )
    content = answer.get("content", {})
    if "application/json" not in content or request.method == "HEAD":
        return
    declared = content["application/json"]["schema"]
    schema = {"$ref": "urn:opbx-openapi#" + declared["$ref"].removeprefix("#")} if "$ref" in declared else declared
    validator = Draft202012Validator(schema, registry=_registry())
    errors = sorted(validator.iter_errors(response.json()), key=lambda error: list(error.path))
    if errors:
        details = "; ".join(f"{list(error.path)}: {error.message}" for error in errors[:3])
        raise ContractViolation(f"{request.method} {request.url.path} {response.status_code}: {details}")


async def check_response_hook(response: httpx.Response) -> None:
    """An httpx event hook: read the body, then check it."""
    await response.aread()
    check_response(response)

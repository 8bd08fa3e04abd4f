"""``/api/v1/extensions``: the organization's extensions and who has each.

Every member reads them; admins create, renumber, assign and delete. An extension that a
number routes to, or that is in the call history, is not deleted (409): unassign it instead.
"""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from opbx.api.contract import Operation, RecordId, decode_json, id_parameter, json_response, path_id
from opbx.api.directory_access import as_caller
from opbx.api.inputs import limited_body
from opbx.directory import numbers
from opbx.directory.records import ExtensionRecord

__all__ = ["OPERATIONS"]


class NewExtension(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    number: str
    """1 to 16 digits."""
    user_id: RecordId | None = None
    """The user who has it; none by default."""


class ExtensionChange(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields left out stay as they are; ``user_id: null`` unassigns."""

    number: str | UnsetType = UNSET
    user_id: RecordId | UnsetType | None = UNSET


class ExtensionList(Struct, frozen=True):
    data: list[ExtensionRecord]


class OneExtension(Struct, frozen=True):
    data: ExtensionRecord


async def list_extensions(request: Request) -> Response:
    return json_response(ExtensionList(await as_caller(request, numbers.list_extensions)))


async def create_extension(request: Request) -> Response:
    new = decode_json(await limited_body(request), NewExtension)
    record = await as_caller(request, lambda scope: numbers.create_extension(scope, None, new.number, new.user_id))
    return json_response(OneExtension(record), 201)


async def get_extension(request: Request) -> Response:
    extension_id = path_id(request, "extension_id", "extension")
    return json_response(OneExtension(await as_caller(request, lambda s: numbers.get_extension(s, extension_id))))


async def update_extension(request: Request) -> Response:
    extension_id = path_id(request, "extension_id", "extension")
    change = decode_json(await limited_body(request), ExtensionChange)
    record = await as_caller(
        request,
        lambda scope: numbers.update_extension(scope, extension_id, number=change.number, user_id=change.user_id),
    )
    return json_response(OneExtension(record))


async def delete_extension(request: Request) -> Response:
    extension_id = path_id(request, "extension_id", "extension")
    return json_response(OneExtension(await as_caller(request, lambda s: numbers.delete_extension(s, extension_id))))


_EXTENSIONS = "/api/v1/extensions"
_EXTENSION = "/api/v1/extensions/{extension_id}"
_ID = (id_parameter("extension_id", "extension"),)

OPERATIONS = (
    Operation("GET", _EXTENSIONS, list_extensions, "List the organization's extensions", "Extensions",
              {200: ExtensionList}),
    Operation("POST", _EXTENSIONS, create_extension, "Create an extension (admins)", "Extensions",
              {201: OneExtension}, body=NewExtension, errors=(403, 404, 409)),
    Operation("GET", _EXTENSION, get_extension, "An extension", "Extensions", {200: OneExtension}, parameters=_ID),
    Operation("PATCH", _EXTENSION, update_extension, "Renumber or (un)assign an extension (admins)", "Extensions",
              {200: OneExtension}, body=ExtensionChange, parameters=_ID, errors=(403, 409)),
    Operation("DELETE", _EXTENSION, delete_extension, "Delete an extension nothing refers to (admins)",
              "Extensions", {200: OneExtension}, parameters=_ID, errors=(403, 409)),
)  # fmt: skip

"""``/api/v1/dids``: the phone numbers the provider routes to the organization.

Every member reads them; admins register, change, route and delete them. A number in the
call history is not deleted (409).
"""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from opbx.api.contract import Operation, RecordId, decode_json, id_parameter, json_response, path_id
from opbx.api.directory_access import as_caller
from opbx.api.inputs import limited_body
from opbx.directory import numbers
from opbx.directory.records import DidRecord

__all__ = ["OPERATIONS"]


class NewDid(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    phone_number: str
    """E.164: ``+`` and 2 to 15 digits."""
    extension_id: RecordId | None = None
    """The extension it rings; none in particular by default."""


class DidChange(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields left out stay as they are; ``extension_id: null`` routes to no extension."""

    phone_number: str | UnsetType = UNSET
    extension_id: RecordId | UnsetType | None = UNSET


class DidList(Struct, frozen=True):
    data: list[DidRecord]


class OneDid(Struct, frozen=True):
    data: DidRecord


async def list_dids(request: Request) -> Response:
    return json_response(DidList(await as_caller(request, numbers.list_dids)))


async def create_did(request: Request) -> Response:
    new = decode_json(await limited_body(request), NewDid)
    record = await as_caller(request, lambda scope: numbers.create_did(scope, None, new.phone_number, new.extension_id))
    return json_response(OneDid(record), 201)


async def get_did(request: Request) -> Response:
    did_id = path_id(request, "did_id", "number")
    return json_response(OneDid(await as_caller(request, lambda scope: numbers.get_did(scope, did_id))))


async def update_did(request: Request) -> Response:
    did_id = path_id(request, "did_id", "number")
    change = decode_json(await limited_body(request), DidChange)
    record = await as_caller(
        request,
        lambda scope: numbers.update_did(
            scope, did_id, phone_number=change.phone_number, extension_id=change.extension_id
        ),
    )
    return json_response(OneDid(record))


async def delete_did(request: Request) -> Response:
    did_id = path_id(request, "did_id", "number")
    return json_response(OneDid(await as_caller(request, lambda scope: numbers.delete_did(scope, did_id))))


_DIDS = "/api/v1/dids"
_DID = "/api/v1/dids/{did_id}"
_ID = (id_parameter("did_id", "number"),)

OPERATIONS = (
    Operation("GET", _DIDS, list_dids, "List the organization's numbers", "Numbers", {200: DidList}),
    Operation("POST", _DIDS, create_did, "Register a number (admins)", "Numbers", {201: OneDid}, body=NewDid,
              errors=(403, 404, 409)),
    Operation("GET", _DID, get_did, "A number", "Numbers", {200: OneDid}, parameters=_ID),
    Operation("PATCH", _DID, update_did, "Change or route a number (admins)", "Numbers", {200: OneDid},
              body=DidChange, parameters=_ID, errors=(403, 409)),
    Operation("DELETE", _DID, delete_did, "Delete a number no call refers to (admins)", "Numbers", {200: OneDid},
              parameters=_ID, errors=(403, 409)),
)  # fmt: skip

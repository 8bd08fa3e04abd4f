"""``/api/v1/organization``: the caller's organization, its webhook secret and its audit log.

Every member reads it (without the secret); admins rename it, rotate the secret (shown once,
in the answer) and read the audit log of directory changes.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct
from starlette.requests import Request
from starlette.responses import Response

from opbx.api.contract import ID_SCHEMA, Operation, Parameter, decode_json, json_response
from opbx.api.directory_access import as_caller
from opbx.api.inputs import limited_body, query_int
from opbx.directory import organizations
from opbx.directory.records import AuditRecord, OrganizationRecord, OrganizationWithSecret
from opbx.parsing import MAX_RECORD_ID

__all__ = ["OPERATIONS"]


class OrganizationChange(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]


class OneOrganization(Struct, frozen=True):
    data: OrganizationRecord


class OrganizationSecret(Struct, frozen=True):
    data: OrganizationWithSecret


class AuditLog(Struct, frozen=True):
    data: list[AuditRecord]
    """Newest first; ask for older ones with ``before`` set to the last id."""


async def get_organization(request: Request) -> Response:
    return json_response(OneOrganization(await as_caller(request, organizations.get)))


async def rename_organization(request: Request) -> Response:
    change = decode_json(await limited_body(request), OrganizationChange)
    record = await as_caller(request, lambda scope: organizations.rename(scope, change.name))
    return json_response(OneOrganization(record))


async def rotate_webhook_secret(request: Request) -> Response:
    return json_response(OrganizationSecret(await as_caller(request, organizations.rotate_secret)))


async def audit_log(request: Request) -> Response:
    limit = query_int(request, "limit", 50, 1, 500)
    before = query_int(request, "before", 0, 1, MAX_RECORD_ID) or None
    entries = await as_caller(request, lambda scope: organizations.audit_log(scope, limit=limit, before=before))
    return json_response(AuditLog(entries))


_ORGANIZATION = "/api/v1/organization"

OPERATIONS = (
    Operation("GET", _ORGANIZATION, get_organization, "Your organization", "Organization",
              {200: OneOrganization}),
    Operation("PATCH", _ORGANIZATION, rename_organization, "Rename your organization (admins)", "Organization",
              {200: OneOrganization}, body=OrganizationChange, errors=(403,)),
    Operation("POST", f"{_ORGANIZATION}/webhook-secret", rotate_webhook_secret,
              "Rotate the webhook secret (admins); the answer is the only time it is shown", "Organization",
              {200: OrganizationSecret}, errors=(403,)),
    Operation("GET", f"{_ORGANIZATION}/audit-log", audit_log, "Who changed what in the directory (admins)",
              "Organization", {200: AuditLog}, errors=(403, 422),
              parameters=(
                  Parameter("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500},
                            "At most this many entries (default 50)."),
                  Parameter("before", "query", ID_SCHEMA, "Only entries older than this id."),
              )),
)  # fmt: skip

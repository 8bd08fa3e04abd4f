"""Extensions (a desk phone or softphone, maybe assigned to a user) and DIDs (the phone
numbers the provider routes to the organization, maybe to one extension).

An extension a number routes to, or one that answered calls, is not deleted: that would
break the routing or the call history. It can be unassigned (no user) instead; a number
can be routed to no extension.
"""

from __future__ import annotations

from msgspec import UNSET, UnsetType
from sqlalchemy import func, select

from opbx.db.models import CallLog, Did, Extension
from opbx.directory.errors import Conflict
from opbx.directory.records import DidRecord, ExtensionRecord, did_record, extension_record
from opbx.directory.rules import check_e164, check_extension_number
from opbx.directory.scope import Scope

__all__ = [
    "create_did",
    "create_extension",
    "delete_did",
    "delete_extension",
    "get_did",
    "get_extension",
    "list_dids",
    "list_extensions",
    "update_did",
    "update_extension",
]


async def _extension_number_is_free(scope: Scope, organization_id: int, number: str) -> None:
    taken = await scope.session.scalar(
        select(Extension.id).where(Extension.organization_id == organization_id, Extension.number == number)
    )
    if taken is not None:
        raise Conflict(f"extension {number} already exists (extension id {taken})")


async def _phone_number_is_free(scope: Scope, number: str) -> None:
    taken = await scope.session.scalar(select(Did.id).where(Did.phone_number == number))
    if taken is not None:
        raise Conflict(f"the number {number} is already registered")


async def create_extension(
    scope: Scope, organization_id: int | None, number: str, user_id: int | None = None
) -> ExtensionRecord:
    scope.require_admin()
    organization = await scope.organization(organization_id)
    number = check_extension_number(number)
    await _extension_number_is_free(scope, organization.id, number)
    if user_id is not None:
        await scope.user(user_id, organization.id)
    extension = Extension(organization_id=organization.id, number=number, user_id=user_id)
    scope.session.add(extension)
    await scope.flush(f"extension {number}")
    scope.audit(organization.id, "extension.create", "extension", extension.id, number=number, user_id=user_id)
    return extension_record(extension)


async def list_extensions(scope: Scope, organization_id: int | None = None) -> list[ExtensionRecord]:
    organization = await scope.organization(organization_id)
    query = (
        select(Extension)
        .where(Extension.organization_id == organization.id)
        .order_by(func.length(Extension.number), Extension.number)  # digits: 99 before 101 before 1000
    )
    return [extension_record(extension) for extension in await scope.session.scalars(query)]


async def get_extension(scope: Scope, extension_id: int) -> ExtensionRecord:
    return extension_record(await scope.extension(extension_id))


async def update_extension(
    scope: Scope,
    extension_id: int,
    *,
    number: str | UnsetType = UNSET,
    user_id: int | UnsetType | None = UNSET,
) -> ExtensionRecord:
    """Renumber an extension, or assign it to a user of its organization (None: to nobody)."""
    scope.require_admin()
    extension = await scope.extension(extension_id)
    details: dict[str, object] = {}
    if not isinstance(number, UnsetType):
        number = check_extension_number(number)
        if number != extension.number:
            await _extension_number_is_free(scope, extension.organization_id, number)
            details["number"] = extension.number = number
    if not isinstance(user_id, UnsetType) and user_id != extension.user_id:
        if user_id is not None:
            await scope.user(user_id, extension.organization_id)
        details["user_id"] = extension.user_id = user_id
    await scope.flush(f"extension {extension.number}")
    if details:
        scope.audit(extension.organization_id, "extension.update", "extension", extension.id, **details)
    return extension_record(extension)


async def delete_extension(scope: Scope, extension_id: int) -> ExtensionRecord:
    scope.require_admin()
    extension = await scope.extension(extension_id)
    routed = list(await scope.session.scalars(select(Did.phone_number).where(Did.extension_id == extension.id)))
    if routed:
        raise Conflict(
            f"extension {extension.number} still receives {', '.join(routed)}; route those numbers elsewhere first"
        )
    calls = await scope.session.scalar(
        select(func.count()).select_from(CallLog).where(CallLog.extension_id == extension.id)
    )
    if calls:
        raise Conflict(
            f"extension {extension.number} is in the history of {calls} call(s); unassign it (no user) instead"
        )
    record = extension_record(extension)
    await scope.session.delete(extension)
    await scope.flush(f"extension {record.number}")  # a call logged meanwhile refuses the delete
    scope.audit(extension.organization_id, "extension.delete", "extension", record.id, number=record.number)
    return record


async def create_did(
    scope: Scope, organization_id: int | None, phone_number: str, extension_id: int | None = None
) -> DidRecord:
    scope.require_admin()
    organization = await scope.organization(organization_id)
    phone_number = check_e164(phone_number)
    await _phone_number_is_free(scope, phone_number)
    if extension_id is not None:
        await scope.extension(extension_id, organization.id)
    did = Did(organization_id=organization.id, phone_number=phone_number, extension_id=extension_id)
    scope.session.add(did)
    await scope.flush(f"the number {phone_number}")
    scope.audit(organization.id, "did.create", "did", did.id, phone_number=phone_number, extension_id=extension_id)
    return did_record(did)


async def list_dids(scope: Scope, organization_id: int | None = None) -> list[DidRecord]:
    organization = await scope.organization(organization_id)
    query = select(Did).where(Did.organization_id == organization.id).order_by(Did.phone_number)
    return [did_record(did) for did in await scope.session.scalars(query)]


async def get_did(scope: Scope, did_id: int) -> DidRecord:
    return did_record(await scope.did(did_id))


async def update_did(
    scope: Scope,
    did_id: int,
    *,
    phone_number: str | UnsetType = UNSET,
    extension_id: int | UnsetType | None = UNSET,
) -> DidRecord:
    """Change a number, or route it to an extension of its organization (None: to no one in particular)."""
    scope.require_admin()
    did = await scope.did(did_id)
    details: dict[str, object] = {}
    if not isinstance(phone_number, UnsetType):
        phone_number = check_e164(phone_number)
        if phone_number != did.phone_number:
            await _phone_number_is_free(scope, phone_number)
            details["phone_number"] = did.phone_number = phone_number
    if not isinstance(extension_id, UnsetType) and extension_id != did.extension_id:
        if extension_id is not None:
            await scope.extension(extension_id, did.organization_id)
        details["extension_id"] = did.extension_id = extension_id
    await scope.flush(f"the number {did.phone_number}")
    if details:
        scope.audit(did.organization_id, "did.update", "did", did.id, **details)
    return did_record(did)


async def delete_did(scope: Scope, did_id: int) -> DidRecord:
    scope.require_admin()
    did = await scope.did(did_id)
    calls = await scope.session.scalar(select(func.count()).select_from(CallLog).where(CallLog.did_id == did.id))
    if calls:
        raise Conflict(f"the number {did.phone_number} is in the history of {calls} call(s); it cannot be deleted")
    record = did_record(did)
    await scope.session.delete(did)
    await scope.flush(f"the number {record.phone_number}")
    scope.audit(did.organization_id, "did.delete", "did", record.id, phone_number=record.phone_number)
    return record

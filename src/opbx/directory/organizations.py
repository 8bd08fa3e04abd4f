"""Organizations: created and listed by the operator; read, renamed and given a new webhook
secret by their admins."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from opbx.db.models import AuditEntry, Did, Extension, Organization
from opbx.directory.errors import Forbidden
from opbx.directory.records import (
    AuditRecord,
    OrganizationRecord,
    OrganizationWithSecret,
    audit_record,
    organization_record,
    organization_with_secret,
)
from opbx.directory.rules import check_name, check_webhook_secret, new_webhook_secret
from opbx.directory.scope import Scope

__all__ = [
    "NumberPlan",
    "audit_log",
    "create",
    "get",
    "list_all",
    "number_plan",
    "number_plans",
    "rename",
    "rotate_secret",
]


async def create(scope: Scope, name: str, webhook_secret: str | None = None) -> OrganizationWithSecret:
    """A new organization; a strong webhook secret is generated unless one is given."""
    if not scope.actor.is_operator:
        raise Forbidden("organizations are created by the operator (opbx org create)")
    secret = check_webhook_secret(webhook_secret) if webhook_secret is not None else new_webhook_secret()
    organization = Organization(name=check_name(name), webhook_secret=secret, created_at=scope.now)
    scope.session.add(organization)
    await scope.session.flush()
    scope.audit(organization.id, "organization.create", "organization", organization.id, name=organization.name)
    return organization_with_secret(organization)


async def list_all(scope: Scope) -> list[OrganizationRecord]:
    query = select(Organization).order_by(Organization.id)
    if not scope.actor.is_operator:
        query = query.where(Organization.id == scope.actor.organization_id)
    return [organization_record(organization) for organization in (await scope.session.scalars(query))]


async def get(scope: Scope, organization_id: int | None = None) -> OrganizationRecord:
    return organization_record(await scope.organization(organization_id))


async def rename(scope: Scope, name: str, organization_id: int | None = None) -> OrganizationRecord:
    scope.require_admin()
    organization = await scope.organization(organization_id)
    before, organization.name = organization.name, check_name(name)
    if organization.name != before:
        scope.audit(
            organization.id,
            "organization.rename",
            "organization",
            organization.id,
            before=before,
            after=organization.name,
        )
    return organization_record(organization)


async def rotate_secret(scope: Scope, organization_id: int | None = None) -> OrganizationWithSecret:
    """A new webhook secret, effective at once: the provider must be given it."""
    scope.require_admin()
    organization = await scope.organization(organization_id)
    organization.webhook_secret = new_webhook_secret()
    scope.audit(organization.id, "organization.rotate_secret", "organization", organization.id)
    return organization_with_secret(organization)


@dataclass(frozen=True, slots=True)
class NumberPlan:
    """What a call simulator needs to know of an organization."""

    organization_id: int
    webhook_secret: str
    dids: tuple[str, ...]
    extensions: tuple[str, ...]


async def number_plan(scope: Scope, organization_id: int) -> NumberPlan:
    """The organization's secret, numbers and extensions."""
    organization = await scope.organization(organization_id)
    dids = await scope.session.scalars(
        select(Did.phone_number).where(Did.organization_id == organization.id).order_by(Did.phone_number)
    )
    extensions = await scope.session.scalars(
        select(Extension.number).where(Extension.organization_id == organization.id).order_by(Extension.number)
    )
    return NumberPlan(organization.id, organization.webhook_secret, tuple(dids), tuple(extensions))


async def number_plans(scope: Scope) -> list[NumberPlan]:
    """:func:`number_plan` of every organization the actor sees."""
    return [await number_plan(scope, record.id) for record in await list_all(scope)]


async def audit_log(
    scope: Scope, organization_id: int | None = None, *, limit: int = 50, before: int | None = None
) -> list[AuditRecord]:
    """The newest changes to the organization's directory first (admins only); ``before``: an entry id."""
    scope.require_admin("read the audit log")
    organization = await scope.organization(organization_id)
    query = select(AuditEntry).where(AuditEntry.organization_id == organization.id)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    entries = await scope.session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))
    return [audit_record(entry) for entry in entries]

"""The directory's records as the command line prints them and the API answers them.

msgspec Structs: encoded to JSON directly, and the API's OpenAPI document takes their
schemas from these same declarations.
"""

from __future__ import annotations

from typing import Any

import msgspec

from opbx.db.models import AuditEntry, Did, Extension, Organization, User
from opbx.telephony.events import iso8601
from opbx.telephony.ingest import WebhookKind, webhook_path

__all__ = [
    "AuditRecord",
    "DidRecord",
    "ExtensionRecord",
    "OrganizationRecord",
    "OrganizationWithSecret",
    "UserRecord",
    "audit_record",
    "did_record",
    "extension_record",
    "organization_record",
    "organization_with_secret",
    "user_record",
]


class OrganizationRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An organization (a tenant); its webhook secret is shown only when created or rotated."""

    id: int
    name: str
    created_at: str
    webhook_paths: dict[str, str]
    """Where the provider posts this organization's webhooks, relative to the API's origin."""


class OrganizationWithSecret(OrganizationRecord, frozen=True, kw_only=True):
    webhook_secret: str
    """Signs the provider's webhooks (``X-Cloudonix-Signature``); shown only at creation and rotation."""


class UserRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    email: str
    name: str
    role: str
    organization_id: int
    disabled: bool
    created_at: str


class ExtensionRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    number: str
    organization_id: int
    user_id: int | None


class DidRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    phone_number: str
    organization_id: int
    extension_id: int | None


class AuditRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One change to the directory: what, to which record, by whom, when."""

    id: int
    at: str
    actor: str
    actor_user_id: int | None
    action: str
    target_type: str
    target_id: int
    details: dict[str, Any]


def organization_record(organization: Organization) -> OrganizationRecord:
    return OrganizationRecord(
        id=organization.id,
        name=organization.name,
        created_at=iso8601(organization.created_at),
        webhook_paths=_webhook_paths(organization.id),
    )


def organization_with_secret(organization: Organization) -> OrganizationWithSecret:
    return OrganizationWithSecret(
        id=organization.id,
        name=organization.name,
        created_at=iso8601(organization.created_at),
        webhook_paths=_webhook_paths(organization.id),
        webhook_secret=organization.webhook_secret,
    )


def _webhook_paths(organization_id: int) -> dict[str, str]:
    return {kind: f"{webhook_path(kind)}?org={organization_id}" for kind in WebhookKind}


def user_record(user: User) -> UserRecord:
    return UserRecord(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        organization_id=user.organization_id,
        disabled=user.disabled_at is not None,
        created_at=iso8601(user.created_at),
    )


def extension_record(extension: Extension) -> ExtensionRecord:
    return ExtensionRecord(
        id=extension.id, number=extension.number, organization_id=extension.organization_id, user_id=extension.user_id
    )


def did_record(did: Did) -> DidRecord:
    return DidRecord(
        id=did.id, phone_number=did.phone_number, organization_id=did.organization_id, extension_id=did.extension_id
    )


def audit_record(entry: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=entry.id,
        at=iso8601(entry.at),
        actor=entry.actor,
        actor_user_id=entry.actor_user_id,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        details=entry.details,
    )

"""The schema, as SQLAlchemy 2 typed models. Migrations in ``opbx/db/migrations`` create it.

Times are stored in UTC and always come back timezone-aware (:class:`UTCDateTime`), on
SQLite (which has no time zones) as on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "CallLog",
    "Did",
    "Extension",
    "Organization",
    "OutboxEvent",
    "ProviderRecord",
    "UTCDateTime",
    "User",
]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    webhook_secret: Mapped[str] = mapped_column(String(200))
    """Signs this organization's provider webhooks (``X-Cloudonix-Signature``)."""
    created_at: Mapped[datetime]
    event_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """The ``seq`` of the organization's latest committed call event (0: none yet)."""


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    """Set when the user was disabled: they cannot sign in and their tokens are revoked."""


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, so a leaked table grants nothing."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Extension(Base):
    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("organization_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Did(Base):
    """A phone number the provider routes to an organization (and maybe to one extension)."""

    __tablename__ = "dids"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    phone_number: Mapped[str] = mapped_column(String(32), unique=True)
    extension_id: Mapped[int | None] = mapped_column(ForeignKey("extensions.id"))


class CallLog(Base):
    __tablename__ = "call_logs"
    __table_args__ = (
        Index("ix_call_logs_org_status", "organization_id", "status"),
        Index("ix_call_logs_org_initiated", "organization_id", "initiated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(128), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    direction: Mapped[str] = mapped_column(String(16))
    from_number: Mapped[str] = mapped_column(String(64))
    to_number: Mapped[str] = mapped_column(String(64))
    did_id: Mapped[int | None] = mapped_column(ForeignKey("dids.id"))
    extension_id: Mapped[int | None] = mapped_column(ForeignKey("extensions.id"))
    status: Mapped[str] = mapped_column(String(16))
    initiated_at: Mapped[datetime]
    ringing_at: Mapped[datetime | None]
    """When the provider reported it ringing; None when no ``ringing`` report came."""
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    duration: Mapped[int | None] = mapped_column(Integer)
    """Seconds of conversation, once the call has ended."""
    recording_url: Mapped[str | None] = mapped_column(String(2000))
    updated_at: Mapped[datetime]


class ProviderRecord(Base):
    """Every webhook body received, verbatim; its digest makes a duplicate a no-op."""

    __tablename__ = "provider_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_log_id: Mapped[int] = mapped_column(ForeignKey("call_logs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]


class OutboxEvent(Base):
    """A broadcast committed with the state change that caused it, sent later by the relay."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "organization_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    call_id: Mapped[str] = mapped_column(String(128))
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """The organization's sequence number of this event (also in its payload)."""
    name: Mapped[str] = mapped_column(String(64))
    channels: Mapped[list[str]]
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(500))


class AuditEntry(Base):
    """One change to an organization's directory, and who made it."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_org_at", "organization_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """The signed-in user who made the change; None for the operator's command line."""
    actor: Mapped[str] = mapped_column(String(400))
    """Who, as a person reads it: ``admin@acme.example (user 3)`` or ``opbx command line``."""
    action: Mapped[str] = mapped_column(String(64))
    """``user.create``, ``did.route``, ``organization.rotate_secret``..."""
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int]
    details: Mapped[dict[str, Any]]
    at: Mapped[datetime]


class SignInThrottleKey(Base):
    """Recent failed sign-ins of one account or one client address (``opbx.accounts.throttle``).

    The key is ``account:<sha256 of the normalized email>`` (never the email itself, and the
    same for an email that exists as for one that does not) or ``address:<client address>``.
    """

    __tablename__ = "sign_in_throttle"
    __table_args__ = (Index("ix_sign_in_throttle_last_failure", "last_failure_at"),)

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    """Consecutive failures; an attempt counts as one from its start until it succeeds."""
    last_failure_at: Mapped[datetime]
    """When the latest one was counted: a key quiet for a day is forgotten."""
    blocked_until: Mapped[datetime]
    """No attempt on this key is accepted before this moment."""

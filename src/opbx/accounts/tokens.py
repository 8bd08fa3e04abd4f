"""Bearer tokens: random, shown once, stored as SHA-256, expiring, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opbx.db.models import ApiToken, Organization, User

__all__ = ["TOKEN_LIFETIME", "Authenticated", "issue_token", "resolve_token", "revoke_token"]

TOKEN_LIFETIME = timedelta(days=7)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Authenticated:
    """The user behind a valid token."""

    user: User
    organization: Organization


async def issue_token(session: AsyncSession, user: User, now: datetime) -> tuple[str, datetime]:
    """Create a token for ``user``; return it (the only time it exists in clear) and its expiry."""
    token = secrets.token_urlsafe(32)
    expires_at = now + TOKEN_LIFETIME
    session.add(ApiToken(user_id=user.id, token_hash=_digest(token), created_at=now, expires_at=expires_at))
    return token, expires_at


async def resolve_token(session: AsyncSession, token: str, now: datetime) -> Authenticated | None:
    """The user of an unexpired, unrevoked token, or None."""
    row = (
        await session.execute(
            select(ApiToken, User, Organization)
            .join(User, User.id == ApiToken.user_id)
            .join(Organization, Organization.id == User.organization_id)
            .where(ApiToken.token_hash == _digest(token))
        )
    ).first()
    if row is None:
        return None
    api_token, user, organization = row
    if api_token.revoked_at is not None or api_token.expires_at <= now or user.disabled_at is not None:
        return None
    return Authenticated(user=user, organization=organization)


async def revoke_token(session: AsyncSession, token: str, now: datetime) -> bool:
    api_token = (
        await session.execute(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    ).scalar_one_or_none()
    if api_token is None or api_token.revoked_at is not None:
        return False
    api_token.revoked_at = now
    return True

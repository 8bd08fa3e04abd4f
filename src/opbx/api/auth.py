"""Sign-in with email and password, bearer tokens, and who the caller is."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from opbx.accounts.passwords import hash_password, verify_password
from opbx.accounts.tokens import Authenticated, issue_token, resolve_token, revoke_token
from opbx.api.context import context_of
from opbx.api.errors import ApiProblem
from opbx.api.inputs import json_object
from opbx.db.models import Organization, User
from opbx.telephony.events import iso8601

__all__ = ["bearer_token", "login", "logout", "me", "require_user", "user_json"]

# Checked when the email is unknown, so both failures take the same time.
_DUMMY_HASH = hash_password("not a real password")


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "organization_id": user.organization_id,
    }


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def require_user(request: Request) -> Authenticated:
    """The signed-in caller, or a 401."""
    token = bearer_token(request)
    if token is None:
        raise ApiProblem(401, "Missing bearer token")
    context = context_of(request)
    async with context.database.session() as session:
        authenticated = await resolve_token(session, token, context.now())
    if authenticated is None:
        raise ApiProblem(401, "Invalid or expired token")
    return authenticated


async def login(request: Request) -> Response:
    body = await json_object(request)
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise ApiProblem(422, "'email' and 'password' are required strings")
    context = context_of(request)
    async with context.database.session() as session, session.begin():
        user = (await session.execute(select(User).where(User.email == email.strip().lower()))).scalar_one_or_none()
        valid = verify_password(password, user.password_hash if user else _DUMMY_HASH)
        if user is None or not valid:
            raise ApiProblem(401, "Invalid email or password")
        if user.disabled_at is not None:
            raise ApiProblem(403, "This account is disabled; ask an admin of your organization")
        token, expires_at = await issue_token(session, user, context.now())
        organization = await session.get(Organization, user.organization_id)
    assert organization is not None
    return JSONResponse(
        {
            "token": token,
            "token_type": "Bearer",
            "expires_at": iso8601(expires_at),
            "user": user_json(user),
            "organization": {"id": organization.id, "name": organization.name},
        }
    )


async def logout(request: Request) -> Response:
    await require_user(request)
    token = bearer_token(request)
    assert token is not None
    context = context_of(request)
    async with context.database.session() as session, session.begin():
        await revoke_token(session, token, context.now())
    return JSONResponse({"ok": True})


async def me(request: Request) -> Response:
    authenticated = await require_user(request)
    organization = authenticated.organization
    return JSONResponse(
        {"user": user_json(authenticated.user), "organization": {"id": organization.id, "name": organization.name}}
    )

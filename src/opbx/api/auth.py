"""Sign-in with email and password, bearer tokens, and who the caller is."""

from __future__ import annotations

import asyncio
import logging

from msgspec import Struct
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from opbx.accounts.passwords import hash_password, verify_password
from opbx.accounts.throttle import retry_after
from opbx.accounts.tokens import Authenticated, issue_token, resolve_token, revoke_token
from opbx.api.context import context_of
from opbx.api.contract import Auth, Operation, decode_json, json_response
from opbx.api.errors import ApiProblem
from opbx.api.inputs import limited_body
from opbx.db.models import Organization, User
from opbx.telephony.events import iso8601

__all__ = ["OPERATIONS", "bearer_token", "require_user"]

log = logging.getLogger("opbx.api.auth")

# Checked when the email is unknown, so both failures take the same time.
_DUMMY_HASH = hash_password("not a real password")
_THROTTLED = "Too many sign-in attempts; wait before trying again (see Retry-After)"


class Credentials(Struct, frozen=True, kw_only=True):
    email: str
    password: str


class SignedInUser(Struct, frozen=True, kw_only=True):
    id: int
    name: str
    email: str
    role: str
    organization_id: int


class OrganizationName(Struct, frozen=True, kw_only=True):
    id: int
    name: str


class SignedIn(Struct, frozen=True, kw_only=True):
    token: str
    """Send it as ``Authorization: Bearer <token>``; it is never shown again."""
    token_type: str
    expires_at: str
    user: SignedInUser
    organization: OrganizationName


class WhoAmI(Struct, frozen=True, kw_only=True):
    user: SignedInUser
    organization: OrganizationName


class SignedOut(Struct, frozen=True):
    ok: bool


def _signed_in_user(user: User) -> SignedInUser:
    return SignedInUser(
        id=user.id, name=user.name, email=user.email, role=user.role, organization_id=user.organization_id
    )


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def require_user(request: Request) -> Authenticated:
    """The signed-in caller, or a 401 (resolved once a request: the routes check it first)."""
    cached: Authenticated | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    token = bearer_token(request)
    if token is None:
        raise ApiProblem(401, "Missing bearer token")
    context = context_of(request)
    async with context.database.reader() as session:
        authenticated = await resolve_token(session, token, context.now())
    if authenticated is None:
        raise ApiProblem(401, "Invalid or expired token")
    request.state.caller = authenticated
    return authenticated


async def login(request: Request) -> Response:
    credentials = decode_json(await limited_body(request), Credentials)
    context = context_of(request)
    email = credentials.email.strip().lower()
    address = request.client.host if request.client else ""
    # Counted before anything is looked up, the same for an email that exists and one that does not.
    wait = await context.throttle.attempt(email, address)
    if wait is not None:
        context.metrics.sign_in("throttled")
        log.warning("sign-in throttled: %s from %s must wait %.0f s", email[:320], address, wait)
        raise ApiProblem(429, _THROTTLED, headers={"Retry-After": retry_after(wait)})
    async with context.database.reader() as session:
        # An address no user can have (PostgreSQL refuses NUL outright) is looked up as nobody.
        user = (
            (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()
            if email.isprintable()
            else None
        )
    # The slow check runs outside any transaction: on SQLite a writer's lock must not wait on scrypt.
    hashed = user.password_hash if user else _DUMMY_HASH
    valid = await asyncio.to_thread(verify_password, credentials.password, hashed)
    if user is None or not valid:
        context.metrics.sign_in("failed")
        log.warning("sign-in failed: %s from %s", email[:320], address)  # never the password
        raise ApiProblem(401, "Invalid email or password")
    await context.throttle.succeeded(email, address)  # the right password: no longer counted as a guess
    if user.disabled_at is not None:
        context.metrics.sign_in("failed")
        log.warning("sign-in refused: %s (user %d) is disabled", email, user.id)
        raise ApiProblem(403, "This account is disabled; ask an admin of your organization")
    async with context.database.session() as session, session.begin():
        token, expires_at = await issue_token(session, user, context.now())
        organization = await session.get(Organization, user.organization_id)
    assert organization is not None
    context.metrics.sign_in("succeeded")
    log.info("signed in: %s (user %d) from %s", email, user.id, address)
    return json_response(
        SignedIn(
            token=token,
            token_type="Bearer",  # noqa: S106 - the scheme, not a secret
            expires_at=iso8601(expires_at),
            user=_signed_in_user(user),
            organization=OrganizationName(id=organization.id, name=organization.name),
        )
    )


async def logout(request: Request) -> Response:
    await require_user(request)
    token = bearer_token(request)
    assert token is not None
    context = context_of(request)
    async with context.database.session() as session, session.begin():
        await revoke_token(session, token, context.now())
    return json_response(SignedOut(ok=True))


async def me(request: Request) -> Response:
    authenticated = await require_user(request)
    organization = authenticated.organization
    return json_response(
        WhoAmI(
            user=_signed_in_user(authenticated.user),
            organization=OrganizationName(id=organization.id, name=organization.name),
        )
    )


OPERATIONS = (
    Operation("POST", "/api/v1/auth/login", login, "Sign in with email and password; get a bearer token", "Sign-in",
              {200: SignedIn}, auth=Auth.NONE, body=Credentials, errors=(401, 403, 429),
              description="A wrong password and an unknown email get the same answer (401) in the same time. "
              "After 5 failures on an account, or 20 from an address, each further attempt waits longer "
              "(1 s doubling to 15 min): 429 with Retry-After, the same for an email that exists or not."),
    Operation("POST", "/api/v1/auth/logout", logout, "Revoke the bearer token used", "Sign-in", {200: SignedOut}),
    Operation("GET", "/api/v1/auth/me", me, "Who the bearer token belongs to", "Sign-in", {200: WhoAmI}),
)  # fmt: skip

"""The admin API's way into the directory: the signed-in caller as the actor, one transaction,
and a directory refusal turned into its HTTP answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.requests import Request

from opbx.api.auth import require_user
from opbx.api.context import context_of
from opbx.api.errors import ApiProblem
from opbx.directory.errors import DirectoryError
from opbx.directory.scope import Actor, Scope, transaction

__all__ = ["as_caller"]

T = TypeVar("T")


async def as_caller(request: Request, operation: Callable[[Scope], Awaitable[T]]) -> T:
    """Run ``operation`` on behalf of the signed-in caller; refusals become 403, 404, 409 or 422."""
    authenticated = await require_user(request)
    context = context_of(request)
    try:
        async with transaction(context.database, Actor.of(authenticated.user), context.now()) as scope:
            return await operation(scope)
    except DirectoryError as exc:
        raise ApiProblem(exc.status, exc.message) from None

"""``/api/v1/users``: the people of the caller's organization.

Admins create, change, disable and enable users; supervisors read them all; agents read
only themselves. Anyone changes their own name, and their own password with the current one.
"""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from opbx.api.contract import Operation, decode_json, id_parameter, json_response, path_id
from opbx.api.directory_access import as_caller
from opbx.api.inputs import limited_body
from opbx.directory import users
from opbx.directory.records import UserRecord

__all__ = ["OPERATIONS"]


class NewUser(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: str
    name: str
    role: str
    """admin, supervisor or agent."""
    password: str


class UserChange(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields left out stay as they are."""

    name: str | UnsetType = UNSET
    email: str | UnsetType = UNSET
    role: str | UnsetType = UNSET
    password: str | UnsetType = UNSET
    current_password: str | UnsetType = UNSET
    """Needed with ``password`` when you change your own and are not an admin."""


class UserList(Struct, frozen=True):
    data: list[UserRecord]


class OneUser(Struct, frozen=True):
    data: UserRecord


async def list_users(request: Request) -> Response:
    return json_response(UserList(await as_caller(request, users.list_users)))


async def create_user(request: Request) -> Response:
    new = decode_json(await limited_body(request), NewUser)
    record = await as_caller(
        request,
        lambda scope: users.create(scope, None, email=new.email, name=new.name, role=new.role, password=new.password),
    )
    return json_response(OneUser(record), 201)


async def get_user(request: Request) -> Response:
    user_id = path_id(request, "user_id", "user")
    return json_response(OneUser(await as_caller(request, lambda scope: users.get(scope, user_id))))


async def update_user(request: Request) -> Response:
    user_id = path_id(request, "user_id", "user")
    change = decode_json(await limited_body(request), UserChange)
    changes = users.UserChanges(
        name=change.name,
        email=change.email,
        role=change.role,
        password=change.password,
        current_password=change.current_password,
    )
    return json_response(OneUser(await as_caller(request, lambda scope: users.update(scope, user_id, changes))))


async def disable_user(request: Request) -> Response:
    user_id = path_id(request, "user_id", "user")
    return json_response(OneUser(await as_caller(request, lambda scope: users.disable(scope, user_id))))


async def enable_user(request: Request) -> Response:
    user_id = path_id(request, "user_id", "user")
    return json_response(OneUser(await as_caller(request, lambda scope: users.enable(scope, user_id))))


_USERS = "/api/v1/users"
_USER = "/api/v1/users/{user_id}"
_ID = (id_parameter("user_id", "user"),)

OPERATIONS = (
    Operation("GET", _USERS, list_users, "List the organization's users (agents: only themselves)", "Users",
              {200: UserList}, errors=(403,)),
    Operation("POST", _USERS, create_user, "Create a user (admins)", "Users", {201: OneUser}, body=NewUser,
              errors=(403, 409)),
    Operation("GET", _USER, get_user, "A user (agents: only themselves)", "Users", {200: OneUser},
              parameters=_ID, errors=(403,)),
    Operation("PATCH", _USER, update_user, "Change a user: admins anyone, others their own name and password",
              "Users", {200: OneUser}, body=UserChange, parameters=_ID, errors=(403, 409)),
    Operation("POST", f"{_USER}/disable", disable_user, "Disable a user and revoke their tokens (admins)", "Users",
              {200: OneUser}, parameters=_ID, errors=(403, 409)),
    Operation("POST", f"{_USER}/enable", enable_user, "Let a disabled user sign in again (admins)", "Users",
              {200: OneUser}, parameters=_ID, errors=(403,)),
)  # fmt: skip

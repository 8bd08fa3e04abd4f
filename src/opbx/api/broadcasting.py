"""Channel authorization for pusher-js and laravel-echo, and user authentication.

Spec: https://pusher.com/docs/channels/server_api/authorizing-users (channels) and
https://pusher.com/docs/channels/server_api/authenticating-users (``pusher:signin``).

Rules (the seed's ``routes/channels.php``):

* ``presence-org.{id}``: members of organization ``id``; the answer carries
  ``channel_data`` ``{user_id, user_info: {id, name, email, role}}``;
* ``private-user.{id}``: only user ``id``;
* ``private-extension.{id}``: users of the extension's organization;
* anything else: 403.
"""

from __future__ import annotations

import re

import orjson
from msgspec import UNSET, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from opbx.accounts.tokens import Authenticated
from opbx.api.auth import require_user
from opbx.api.context import context_of
from opbx.api.contract import Operation, json_response
from opbx.api.errors import ApiProblem
from opbx.api.inputs import json_or_form
from opbx.db.models import Extension
from opbx.parsing import parse_record_id, parse_socket_id
from opbx.protocol.signing import channel_auth, user_auth

__all__ = ["OPERATIONS"]


class ChannelAuthRequest(Struct, frozen=True, kw_only=True):
    """What pusher-js posts (form-encoded) or laravel-echo authorizers (often JSON)."""

    socket_id: str
    """``123.456``: the ``socket_id`` of ``pusher:connection_established``."""
    channel_name: str


class UserAuthRequest(Struct, frozen=True, kw_only=True):
    socket_id: str


class ChannelAuthorization(Struct, frozen=True, kw_only=True):
    auth: str
    """``key:signature`` for ``pusher:subscribe``."""
    channel_data: str | UnsetType = UNSET
    """Presence channels: ``{"user_id", "user_info"}`` as a JSON string."""


class UserAuthentication(Struct, frozen=True, kw_only=True):
    auth: str
    user_data: str
    """``{"id", "user_info"}`` as a JSON string, for ``pusher:signin``."""


_ORG = re.compile(r"presence-org\.([0-9]{1,10})")
_USER = re.compile(r"private-user\.([0-9]{1,10})")
_EXTENSION = re.compile(r"private-extension\.([0-9]{1,10})")


def _socket_id(body: dict[str, object]) -> str:
    socket_id = body.get("socket_id")
    try:
        return parse_socket_id(socket_id) if isinstance(socket_id, str) else parse_socket_id("")
    except ValueError:
        raise ApiProblem(400, "'socket_id' must look like '123.456'") from None


def _channel_id(match: re.Match[str] | None) -> int | None:
    """The id in a channel name, when written canonically (``presence-org.007`` names no organization)."""
    if match is None:
        return None
    try:
        return parse_record_id(match.group(1))
    except ValueError:
        return None


def _user_info(authenticated: Authenticated) -> dict[str, object]:
    user = authenticated.user
    return {"id": user.id, "name": user.name, "email": user.email, "role": user.role}


async def _may_use_extension(request: Request, authenticated: Authenticated, extension_id: int) -> bool:
    async with context_of(request).database.reader() as session:
        extension = await session.get(Extension, extension_id)
    return extension is not None and extension.organization_id == authenticated.user.organization_id


async def authorize_channel(request: Request) -> Response:
    authenticated = await require_user(request)
    body = await json_or_form(request)
    socket_id = _socket_id(body)
    channel = body.get("channel_name")
    if not isinstance(channel, str) or not channel:
        raise ApiProblem(400, "'channel_name' is required")
    app = context_of(request).app
    user = authenticated.user
    if (organization_id := _channel_id(_ORG.fullmatch(channel))) is not None:
        if organization_id != user.organization_id:
            raise ApiProblem(403, "Not a member of that organization")
        channel_data = orjson.dumps({"user_id": user.id, "user_info": _user_info(authenticated)}).decode()
        auth = channel_auth(app.key, app.secret, socket_id, channel, channel_data)
        return json_response(ChannelAuthorization(auth=auth, channel_data=channel_data))
    if (user_id := _channel_id(_USER.fullmatch(channel))) is not None:
        if user_id != user.id:
            raise ApiProblem(403, "That is another user's channel")
    elif (extension_id := _channel_id(_EXTENSION.fullmatch(channel))) is not None:
        if not await _may_use_extension(request, authenticated, extension_id):
            raise ApiProblem(403, "That extension belongs to another organization")
    else:
        raise ApiProblem(403, f"No rule authorizes {channel[:100]!r}")
    return json_response(ChannelAuthorization(auth=channel_auth(app.key, app.secret, socket_id, channel)))


async def authenticate_user(request: Request) -> Response:
    """For ``pusher:signin``: the user's identity, signed with the app secret."""
    authenticated = await require_user(request)
    socket_id = _socket_id(await json_or_form(request))
    app = context_of(request).app
    user_data = orjson.dumps({"id": str(authenticated.user.id), "user_info": _user_info(authenticated)}).decode()
    return json_response(
        UserAuthentication(auth=user_auth(app.key, app.secret, socket_id, user_data), user_data=user_data)
    )


_FORM_OR_JSON = ("application/x-www-form-urlencoded", "application/json")

OPERATIONS = (
    Operation("POST", "/api/v1/broadcasting/auth", authorize_channel,
              "Authorize a channel subscription (pusher-js and laravel-echo)", "Realtime", {200: ChannelAuthorization},
              body=ChannelAuthRequest, body_media_types=_FORM_OR_JSON, errors=(403,),
              description="presence-org.{id}: members of organization id; private-user.{id}: user id only; "
              "private-extension.{id}: users of the extension's organization; anything else: 403."),
    Operation("POST", "/api/v1/broadcasting/user-auth", authenticate_user,
              "Sign a pusher:signin for the caller (user authentication)", "Realtime", {200: UserAuthentication},
              body=UserAuthRequest, body_media_types=_FORM_OR_JSON),
)  # fmt: skip

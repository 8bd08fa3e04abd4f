"""Channel authorization as pusher-js (form) and laravel-echo (JSON) ask for it."""

from __future__ import annotations

import json

import httpx
import pytest

from opbx.configuration import DEFAULT_APP
from opbx.protocol.signing import channel_auth, user_auth, verify_channel_auth
from tests.api.conftest import bearer, token_for
from tests.helpers.world import World

KEY, SECRET = DEFAULT_APP.key, DEFAULT_APP.secret
SOCKET = "1234.5678"


async def authorize(client: httpx.AsyncClient, token: str | None, channel: str, *, form: bool = True) -> httpx.Response:
    data = {"socket_id": SOCKET, "channel_name": channel}
    headers = bearer(token) if token else {}
    if form:
        return await client.post("/api/v1/broadcasting/auth", data=data, headers=headers)
    return await client.post("/api/v1/broadcasting/auth", json=data, headers=headers)


@pytest.mark.parametrize("form", [True, False])
async def test_members_join_their_organizations_presence_channel(
    client: httpx.AsyncClient, world: World, form: bool
) -> None:
    token = await token_for(client, "agent@acme.example")
    channel = f"presence-org.{world.acme.id}"
    response = await authorize(client, token, channel, form=form)
    assert response.status_code == 200
    body = response.json()
    assert json.loads(body["channel_data"]) == {
        "user_id": world.acme.user_ids[1],
        "user_info": {
            "id": world.acme.user_ids[1],
            "name": "Acme Agent",
            "email": "agent@acme.example",
            "role": "agent",
        },
    }
    assert verify_channel_auth(KEY, SECRET, SOCKET, channel, body["channel_data"], body["auth"])


async def test_no_one_joins_another_organizations_channels(client: httpx.AsyncClient, world: World) -> None:
    token = await token_for(client, "agent@acme.example")
    assert (await authorize(client, token, f"presence-org.{world.globex.id}")).status_code == 403
    assert (await authorize(client, token, f"private-extension.{world.globex.extension_ids[0]}")).status_code == 403
    assert (await authorize(client, token, "private-extension.999999")).status_code == 403
    assert (await authorize(client, token, f"private-user.{world.acme.user_ids[0]}")).status_code == 403
    assert (await authorize(client, token, "private-anything")).status_code == 403
    assert (await authorize(client, token, "presence-org.1x")).status_code == 403


async def test_own_user_channel_and_own_organizations_extensions(client: httpx.AsyncClient, world: World) -> None:
    token = await token_for(client, "agent@acme.example")
    channel = f"private-user.{world.acme.user_ids[1]}"
    response = await authorize(client, token, channel)
    assert response.json() == {"auth": channel_auth(KEY, SECRET, SOCKET, channel)}
    extension = f"private-extension.{world.acme.extension_ids[0]}"  # a colleague's extension
    assert (await authorize(client, token, extension)).status_code == 200


async def test_authorization_needs_a_token_and_a_socket_id(client: httpx.AsyncClient, world: World) -> None:
    assert (await authorize(client, None, f"presence-org.{world.acme.id}")).status_code == 401
    token = await token_for(client, "agent@acme.example")
    response = await client.post(
        "/api/v1/broadcasting/auth",
        data={"socket_id": "nope", "channel_name": f"presence-org.{world.acme.id}"},
        headers=bearer(token),
    )
    assert response.status_code == 400


async def test_user_authentication_for_signin(client: httpx.AsyncClient, world: World) -> None:
    token = await token_for(client, "admin@acme.example")
    response = await client.post("/api/v1/broadcasting/user-auth", data={"socket_id": SOCKET}, headers=bearer(token))
    body = response.json()
    assert json.loads(body["user_data"])["id"] == str(world.acme.user_ids[0])
    assert body["auth"] == user_auth(KEY, SECRET, SOCKET, body["user_data"])

"""Sign-in, tokens and who the caller is."""

from __future__ import annotations

import httpx

from tests.api.conftest import bearer, token_for
from tests.helpers.clock import ManualClock
from tests.helpers.world import PASSWORD, World


async def test_login_me_logout(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post("/api/v1/auth/login", json={"email": "admin@acme.example", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["user"] == {
        "id": world.acme.user_ids[0],
        "name": "Acme Admin",
        "email": "admin@acme.example",
        "role": "admin",
        "organization_id": world.acme.id,
    }
    me = await client.get("/api/v1/auth/me", headers=bearer(body["token"]))
    assert me.json()["organization"] == {"id": world.acme.id, "name": "Acme"}
    assert (await client.post("/api/v1/auth/logout", headers=bearer(body["token"]))).status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=bearer(body["token"]))).status_code == 401


async def test_wrong_password_and_unknown_email_look_the_same(client: httpx.AsyncClient, world: World) -> None:
    wrong = await client.post("/api/v1/auth/login", json={"email": "admin@acme.example", "password": "nope"})
    unknown = await client.post("/api/v1/auth/login", json={"email": "who@acme.example", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "Invalid email or password", "status": 401}


async def test_malformed_login(client: httpx.AsyncClient, world: World) -> None:
    assert (await client.post("/api/v1/auth/login", content=b"{")).status_code == 400
    assert (await client.post("/api/v1/auth/login", json={"email": 3})).status_code == 422


async def test_tokens_expire(client: httpx.AsyncClient, world: World, clock: ManualClock) -> None:
    token = await token_for(client, "agent@acme.example")
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
    clock.advance(7 * 24 * 3600 + 1)
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401


async def test_requests_without_a_valid_token_are_401(client: httpx.AsyncClient, world: World) -> None:
    for headers in ({}, {"Authorization": "Bearer forged"}, {"Authorization": "Basic abc"}):
        response = await client.get("/api/v1/call-logs/active", headers=headers)
        assert response.status_code == 401
        assert response.json()["status"] == 401


async def test_the_token_is_checked_before_the_body_or_the_path(client: httpx.AsyncClient, world: World) -> None:
    for method, path, body in (
        ("POST", "/api/v1/users", b"{not json"),
        ("PATCH", "/api/v1/extensions/abc", b"{}"),
        ("GET", "/api/v1/call-logs?per_page=9999", None),
    ):
        response = await client.request(method, path, content=body)
        assert response.status_code == 401, (method, path, response.text)


async def test_an_email_no_user_can_have_is_simply_unknown(client: httpx.AsyncClient, world: World) -> None:
    for email in ("admin\u0000@acme.example", "admin\n@acme.example"):
        response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 401
        assert response.json() == {"error": "Invalid email or password", "status": 401}


async def test_changing_your_own_password_needs_the_current_one_admins_too(
    client: httpx.AsyncClient, world: World
) -> None:
    token = await token_for(client, "admin@acme.example")
    me = f"/api/v1/users/{world.acme.user_ids[0]}"
    refused = await client.patch(me, json={"password": "a brand new passphrase"}, headers=bearer(token))
    assert refused.status_code == 403
    assert refused.json()["error"] == "give your current password (current_password) to set a new one"
    changed = await client.patch(
        me, json={"password": "a brand new passphrase", "current_password": PASSWORD}, headers=bearer(token)
    )
    assert changed.status_code == 200
    login = await client.post(
        "/api/v1/auth/login", json={"email": "admin@acme.example", "password": "a brand new passphrase"}
    )
    assert login.status_code == 200


async def wrong(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": "not the password"})


async def test_failed_sign_ins_are_throttled_alike_for_known_and_unknown_emails(
    client: httpx.AsyncClient, world: World, clock: ManualClock
) -> None:
    answers: dict[str, list[int]] = {}
    for email in ("agent@acme.example", "nobody@acme.example"):
        answers[email] = [(await wrong(client, email)).status_code for _ in range(7)]
    # Five free failures, a sixth that starts the wait, then 429 until the wait is over.
    assert answers["agent@acme.example"] == answers["nobody@acme.example"] == [401] * 6 + [429]
    throttled = await wrong(client, "agent@acme.example")
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "1"
    assert throttled.json() == {
        "error": "Too many sign-in attempts; wait before trying again (see Retry-After)",
        "status": 429,
    }
    assert (
        await client.post("/api/v1/auth/login", json={"email": "agent@acme.example", "password": PASSWORD})
    ).status_code == 429
    clock.advance(1)
    right = await client.post("/api/v1/auth/login", json={"email": "agent@acme.example", "password": PASSWORD})
    assert right.status_code == 200  # the right password after the wait still works
    assert (await wrong(client, "agent@acme.example")).status_code == 401  # and the count starts over


async def test_one_address_guessing_many_accounts_is_slowed_too(
    client: httpx.AsyncClient, world: World, clock: ManualClock
) -> None:
    statuses = [(await wrong(client, f"user{index}@spray.example")).status_code for index in range(22)]
    assert statuses == [401] * 21 + [429]  # 20 free failures from one address, the 21st starts the wait
    clock.advance(1)
    assert (await wrong(client, "another@spray.example")).status_code == 401

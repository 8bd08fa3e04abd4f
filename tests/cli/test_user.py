"""``opbx user create|list|set-password|disable|enable``."""

from __future__ import annotations

import io
import re
import sys

import httpx
import pytest
from sqlalchemy import select

from opbx.accounts.passwords import verify_password
from opbx.api.settings import BackendSettings
from opbx.db.engine import Database
from opbx.db.models import ApiToken, AuditEntry, User
from opbx.directory.rules import PASSWORD_RULE
from opbx.system import start_backend
from tests.cli.support import STRONG_PASSWORD, Opbx, usage_error
from tests.helpers.broadcasters import RecordingBroadcaster

pytestmark = pytest.mark.integration

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def password_hash(opbx: Opbx, user_id: int) -> str:
    async def read(database: Database) -> str:
        async with database.session() as session:
            user = await session.get(User, user_id)
            assert user is not None
            return user.password_hash

    return opbx.on_database(read)


def tokens_revoked(opbx: Opbx, user_id: int) -> list[bool]:
    async def read(database: Database) -> list[bool]:
        async with database.session() as session:
            revoked = await session.scalars(
                select(ApiToken.revoked_at).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
            )
            return [moment is not None for moment in revoked]

    return opbx.on_database(read)


Call = tuple[str, str, object, str | None]


def login(email: str, password: str) -> Call:
    return ("POST", "/api/v1/auth/login", {"email": email, "password": password}, None)


def me(token: str) -> Call:
    return ("GET", "/api/v1/auth/me", None, token)


def api(opbx: Opbx, *calls: Call) -> list[httpx.Response]:
    """What the HTTP API answers ``calls`` on the command's database: what a user sees of a command."""

    async def call_all(database: Database) -> list[httpx.Response]:
        backend = await start_backend(
            BackendSettings(), broadcaster=RecordingBroadcaster(), database=database, run_relay=False
        )
        try:
            transport = httpx.ASGITransport(app=backend.api)
            async with httpx.AsyncClient(transport=transport, base_url="http://opbx.test") as client:
                return [
                    await client.request(
                        method, path, json=body, headers={"Authorization": f"Bearer {token}"} if token else {}
                    )
                    for method, path, body, token in calls
                ]
        finally:
            await backend.relay.stop()

    return opbx.on_database(call_all)


def test_create_prints_the_user_and_list_prints_them_all(opbx: Opbx, monkeypatch: pytest.MonkeyPatch) -> None:
    org = opbx.new_org()
    created = opbx.ok(
        "user", "create", "--org", str(org), "--email", " Ada@Acme.Example ", "--name", "Ada Admin",
        "--role", "admin", "--password", STRONG_PASSWORD,
    )  # fmt: skip
    assert set(created) == {"id", "email", "name", "role", "organization_id", "disabled", "created_at"}
    assert {key: created[key] for key in ("id", "email", "name", "role", "organization_id", "disabled")} == {
        "id": 1,
        "email": "ada@acme.example",
        "name": "Ada Admin",
        "role": "admin",
        "organization_id": org,
        "disabled": False,
    }
    assert ISO_UTC.fullmatch(created["created_at"])
    stored = password_hash(opbx, created["id"])
    assert STRONG_PASSWORD not in stored
    assert verify_password(STRONG_PASSWORD, stored)
    monkeypatch.setattr(sys, "stdin", io.StringIO("  spaces kept inside and out  \r\nsecond line ignored\n"))
    from_stdin = opbx.ok(
        "user", "create", "--org", str(org), "--email", "sam@acme.example", "--name", "Sam", "--role", "supervisor",
        "--password-stdin",
    )  # fmt: skip
    assert verify_password("  spaces kept inside and out  ", password_hash(opbx, from_stdin["id"]))
    other_org = opbx.new_org("Globex")
    opbx.new_user(other_org, "gil@globex.example")
    listed = opbx.ok("user", "list", "--org", str(org))
    assert [(user["id"], user["email"], user["role"]) for user in listed] == [
        (created["id"], "ada@acme.example", "admin"),
        (from_stdin["id"], "sam@acme.example", "supervisor"),
    ]
    assert listed[0] == created
    assert all("password" not in key for user in listed for key in user)


def test_refused_users_are_one_line_and_nothing_is_written(opbx: Opbx, monkeypatch: pytest.MonkeyPatch) -> None:
    org = opbx.new_org()
    admin = opbx.new_user(org, "ada@acme.example", "admin")
    other = opbx.new_org("Globex")

    def create(email: str, role: str = "agent", password: str = STRONG_PASSWORD, organization: int = org) -> str:
        return opbx.refused(
            "user", "create", "--org", str(organization), "--email", email, "--name", "X", "--role", role,
            "--password", password,
        )  # fmt: skip

    assert create("ADA@ACME.EXAMPLE", organization=other) == (
        "opbx user create: a user with the email ada@acme.example already exists"
    )
    assert create("new@acme.example", organization=99) == "opbx user create: no organization 99"
    assert create("new@acme.example", role="owner") == (
        "opbx user create: unknown role 'owner'; use admin, supervisor or agent"
    )
    weak = f"opbx user create: weak password: {PASSWORD_RULE}"
    assert weak.endswith(
        "a password needs at least 10 characters, must not be a commonly used password, one repeated character, "
        "or the email address"
    )
    for password in ("short-pw", "new@acme.example"):
        assert create("new@acme.example", password=password) == weak
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert opbx.refused(
        "user", "create", "--org", str(org), "--email", "kim@acme.example", "--name", "Kim", "--role", "agent",
        "--password-stdin",
    ) == weak  # fmt: skip
    assert create("new.acme.example") == (
        "opbx user create: 'new.acme.example' is not an email address like name@example.com"
    )
    assert opbx.refused("user", "disable", "--user", str(admin)) == (
        f"opbx user disable: user {admin} is the organization's last active admin; make another user admin first"
    )
    assert opbx.refused("user", "enable", "--user", "99") == "opbx user enable: no user 99"
    assert opbx.refused("user", "disable", "--user", "99") == "opbx user disable: no user 99"
    assert opbx.refused("user", "list", "--org", "99") == "opbx user list: no organization 99"
    assert [user["email"] for user in opbx.ok("user", "list", "--org", str(org))] == ["ada@acme.example"]
    assert opbx.ok("user", "list", "--org", str(other)) == []


def test_set_password_replaces_it_and_signs_the_user_out(opbx: Opbx, monkeypatch: pytest.MonkeyPatch) -> None:
    org = opbx.new_org()
    opbx.new_user(org, "ada@acme.example", "admin")
    agent = opbx.new_user(org, "pat@acme.example")
    [signed_in] = api(opbx, login("pat@acme.example", STRONG_PASSWORD))
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["token"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("a brand new passphrase\n"))
    changed = opbx.ok("user", "set-password", "--user", str(agent), "--password-stdin")
    assert (changed["id"], changed["email"], changed["disabled"]) == (agent, "pat@acme.example", False)
    assert verify_password("a brand new passphrase", password_hash(opbx, agent))
    assert tokens_revoked(opbx, agent) == [True]
    answers = api(
        opbx, me(token), login("pat@acme.example", STRONG_PASSWORD), login("pat@acme.example", "a brand new passphrase")
    )
    assert [answer.status_code for answer in answers] == [401, 401, 200]
    assert opbx.refused("user", "set-password", "--user", str(agent), "--password", "pat") == (
        f"opbx user set-password: weak password: {PASSWORD_RULE}"
    )
    assert opbx.refused("user", "set-password", "--user", "99", "--password", STRONG_PASSWORD) == (
        "opbx user set-password: no user 99"
    )


def test_disable_revokes_every_token_and_stops_sign_in_until_enabled(opbx: Opbx) -> None:
    org = opbx.new_org()
    opbx.new_user(org, "ada@acme.example", "admin")
    agent = opbx.new_user(org, "pat@acme.example")
    signed_in = api(opbx, login("pat@acme.example", STRONG_PASSWORD), login("pat@acme.example", STRONG_PASSWORD))
    tokens = [answer.json()["token"] for answer in signed_in]
    assert [answer.status_code for answer in api(opbx, *map(me, tokens))] == [200, 200]
    assert tokens_revoked(opbx, agent) == [False, False]
    disabled = opbx.ok("user", "disable", "--user", str(agent))
    assert (disabled["id"], disabled["disabled"]) == (agent, True)
    assert tokens_revoked(opbx, agent) == [True, True]
    *old_sessions, refused = api(opbx, *map(me, tokens), login("pat@acme.example", STRONG_PASSWORD))
    assert [answer.status_code for answer in old_sessions] == [401, 401]
    assert refused.status_code == 403
    assert "disabled" in refused.json()["error"]
    assert opbx.ok("user", "list", "--org", str(org))[1]["disabled"] is True
    assert opbx.ok("user", "disable", "--user", str(agent))["disabled"] is True  # again: no harm
    enabled = opbx.ok("user", "enable", "--user", str(agent))
    assert (enabled["id"], enabled["disabled"]) == (agent, False)
    signed_in_again, old_session = api(opbx, login("pat@acme.example", STRONG_PASSWORD), me(tokens[0]))
    assert (signed_in_again.status_code, old_session.status_code) == (200, 401)
    assert opbx.on_database(audit_actions)[-2:] == ["user.disable", "user.enable"]


async def audit_actions(database: Database) -> list[str]:
    async with database.session() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["user", "create", "--org", "1", "--email", "a@b.example", "--name", "A", "--role", "agent"],
         "opbx user create: one of the arguments --password --password-stdin is required"),
        (["user", "create", "--org", "1", "--email", "a@b.example", "--name", "A", "--role", "agent",
          "--password", "x", "--password-stdin"],
         "opbx user create: argument --password-stdin: not allowed with argument --password"),
        (["user", "list", "--org", "007"], "opbx user list: argument --org: '007' is not a record id"),
        (["user", "disable", "--user", "0"], "opbx user disable: argument --user: '0' is not a record id"),
        (["user", "enable", "--user", "2147483648"],
         "opbx user enable: argument --user: '2147483648' is not a record id"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert usage_error(capsys, *args).startswith(message)

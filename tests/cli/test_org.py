"""``opbx org create|list|rotate-secret``: the webhook secret is printed by create and rotate only."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from opbx.db.engine import Database
from opbx.db.models import AuditEntry, Organization
from tests.cli.support import Opbx, usage_error

pytestmark = pytest.mark.integration

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
URL_SAFE = re.compile(r"[A-Za-z0-9_-]{43,}")


def paths(organization_id: int) -> dict[str, str]:
    return {
        kind: f"/webhooks/cloudonix/{kind}?org={organization_id}" for kind in ("call-initiated", "call-status", "cdr")
    }


def stored_secrets(opbx: Opbx) -> dict[int, str]:
    async def read(database: Database) -> dict[int, str]:
        async with database.session() as session:
            rows = await session.execute(select(Organization.id, Organization.webhook_secret))
            return {organization_id: secret for organization_id, secret in rows}

    return opbx.on_database(read)


def audit_details(opbx: Opbx) -> list[tuple[str, str, dict[str, object]]]:
    async def read(database: Database) -> list[tuple[str, str, dict[str, object]]]:
        async with database.session() as session:
            entries = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            return [(entry.actor, entry.action, entry.details) for entry in entries]

    return opbx.on_database(read)


def test_create_prints_the_organization_with_a_strong_generated_secret(opbx: Opbx) -> None:
    created = opbx.ok("org", "create", "--name", "Acme")
    assert set(created) == {"id", "name", "created_at", "webhook_paths", "webhook_secret"}
    assert created["id"] == 1
    assert created["name"] == "Acme"
    assert ISO_UTC.fullmatch(created["created_at"])
    assert created["webhook_paths"] == paths(1)
    assert URL_SAFE.fullmatch(created["webhook_secret"])
    other = opbx.ok("org", "create", "--name", "Globex")
    assert other["id"] == 2
    assert other["webhook_secret"] != created["webhook_secret"]
    given = opbx.ok("org", "create", "--name", "Hooli", "--webhook-secret", "from-the-provider-console")
    assert given["webhook_secret"] == "from-the-provider-console"
    assert stored_secrets(opbx) == {
        1: created["webhook_secret"],
        2: other["webhook_secret"],
        3: given["webhook_secret"],
    }
    assert audit_details(opbx) == [
        ("opbx command line", "organization.create", {"name": "Acme"}),
        ("opbx command line", "organization.create", {"name": "Globex"}),
        ("opbx command line", "organization.create", {"name": "Hooli"}),
    ]


def test_list_prints_every_organization_and_never_a_secret(opbx: Opbx) -> None:
    assert opbx.ok("org", "list") == []
    acme = opbx.ok("org", "create", "--name", "Acme")
    globex = opbx.ok("org", "create", "--name", "Globex", "--webhook-secret", "globex-secret-0123456789")
    outcome = opbx.run("org", "list")
    assert (outcome.code, outcome.err) == (0, "")
    assert "webhook_secret" not in outcome.out
    assert acme["webhook_secret"] not in outcome.out
    assert "globex-secret-0123456789" not in outcome.out
    listed = json.loads(outcome.out)
    assert listed == [
        {key: value for key, value in record.items() if key != "webhook_secret"} for record in (acme, globex)
    ]


def test_rotate_secret_prints_a_new_secret_that_replaces_the_old_one(opbx: Opbx) -> None:
    acme = opbx.ok("org", "create", "--name", "Acme")
    globex = opbx.ok("org", "create", "--name", "Globex")
    rotated = opbx.ok("org", "rotate-secret", "--org", str(acme["id"]))
    assert {key: value for key, value in rotated.items() if key != "webhook_secret"} == {
        key: value for key, value in acme.items() if key != "webhook_secret"
    }
    assert URL_SAFE.fullmatch(rotated["webhook_secret"])
    assert rotated["webhook_secret"] != acme["webhook_secret"]
    again = opbx.ok("org", "rotate-secret", "--org", str(acme["id"]))
    assert again["webhook_secret"] not in (acme["webhook_secret"], rotated["webhook_secret"])
    assert stored_secrets(opbx) == {acme["id"]: again["webhook_secret"], globex["id"]: globex["webhook_secret"]}
    listed = opbx.run("org", "list").out
    assert again["webhook_secret"] not in listed
    actions = audit_details(opbx)
    assert [action for _, action, _ in actions][2:] == ["organization.rotate_secret"] * 2
    assert all(again["webhook_secret"] not in repr(entry) for entry in actions)


def test_refusals_are_one_line_and_change_nothing(opbx: Opbx) -> None:
    opbx.new_org()
    assert opbx.refused("org", "create", "--name", "Initech", "--webhook-secret", "short") == (
        "opbx org create: a webhook secret must be 16 to 200 printable ASCII characters without spaces"
    )
    assert opbx.refused("org", "create", "--name", "   ") == (
        "opbx org create: name must be 1 to 200 printable characters"
    )
    assert opbx.refused("org", "rotate-secret", "--org", "99") == "opbx org rotate-secret: no organization 99"
    assert [record["name"] for record in opbx.ok("org", "list")] == ["Acme"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["org", "create"], "opbx org create: the following arguments are required: --name"),
        (["org", "rotate-secret", "--org", "007"], "opbx org rotate-secret: argument --org: '007' is not a record id"),
        (
            ["org", "rotate-secret", "--org", "acme"],
            "opbx org rotate-secret: argument --org: 'acme' is not a record id",
        ),
    ],
)
def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert usage_error(capsys, *args).startswith(message)

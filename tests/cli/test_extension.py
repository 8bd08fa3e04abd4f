"""``opbx extension create|list|assign``."""

from __future__ import annotations

import pytest

from tests.cli.support import Opbx, usage_error

pytestmark = pytest.mark.integration


def test_create_list_and_assign(opbx: Opbx) -> None:
    org = opbx.new_org()
    pat = opbx.new_user(org, "pat@acme.example")
    desk = opbx.ok("extension", "create", "--org", str(org), "--number", "201")
    assert desk == {"id": 1, "number": "201", "organization_id": org, "user_id": None}
    own = opbx.ok("extension", "create", "--org", str(org), "--number", "102", "--user", str(pat))
    assert own == {"id": 2, "number": "102", "organization_id": org, "user_id": pat}
    other_org = opbx.new_org("Globex")
    elsewhere = opbx.ok("extension", "create", "--org", str(other_org), "--number", "201")
    assert (elsewhere["number"], elsewhere["organization_id"]) == ("201", other_org)
    assert opbx.ok("extension", "list", "--org", str(org)) == [own, desk]  # by number
    assigned = opbx.ok("extension", "assign", "--extension", str(desk["id"]), "--user", str(pat))
    assert assigned == {**desk, "user_id": pat}
    unassigned = opbx.ok("extension", "assign", "--extension", str(own["id"]), "--none")
    assert unassigned == {**own, "user_id": None}
    assert opbx.ok("extension", "list", "--org", str(org)) == [unassigned, assigned]
    assert opbx.ok("extension", "list", "--org", str(other_org)) == [elsewhere]


def test_refusals_are_one_line_and_change_nothing(opbx: Opbx) -> None:
    org = opbx.new_org()
    other_org = opbx.new_org("Globex")
    stranger = opbx.new_user(other_org, "gil@globex.example")
    taken = opbx.ok("extension", "create", "--org", str(org), "--number", "101")
    foreign = opbx.ok("extension", "create", "--org", str(other_org), "--number", "900")

    def create(*args: str) -> str:
        return opbx.refused("extension", "create", "--org", str(org), *args)

    assert (
        create("--number", "101") == f"opbx extension create: extension 101 already exists (extension id {taken['id']})"
    )
    assert create("--number", "10a") == (
        "opbx extension create: '10a' is not an extension number: 1 to 16 digits, like 101"
    )
    assert create("--number", "102", "--user", "99") == "opbx extension create: no user 99"
    assert create("--number", "102", "--user", str(stranger)) == (
        f"opbx extension create: user {stranger} belongs to organization {other_org}, not {org}"
    )
    assert opbx.refused("extension", "create", "--org", "99", "--number", "102") == (
        "opbx extension create: no organization 99"
    )
    assert opbx.refused("extension", "assign", "--extension", "99", "--none") == (
        "opbx extension assign: no extension 99"
    )
    assert opbx.refused("extension", "assign", "--extension", str(taken["id"]), "--user", "99") == (
        "opbx extension assign: no user 99"
    )
    assert opbx.refused("extension", "assign", "--extension", str(taken["id"]), "--user", str(stranger)) == (
        f"opbx extension assign: user {stranger} belongs to organization {other_org}, not {org}"
    )
    assert opbx.refused("extension", "list", "--org", "99") == "opbx extension list: no organization 99"
    assert opbx.ok("extension", "list", "--org", str(org)) == [taken]
    assert opbx.ok("extension", "list", "--org", str(other_org)) == [foreign]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["extension", "create", "--org", "1", "--number", "101", "--user", "007"],
         "opbx extension create: argument --user: '007' is not a record id"),
        (["extension", "assign", "--extension", "1"],
         "opbx extension assign: one of the arguments --user --none is required"),
        (["extension", "assign", "--extension", "1", "--user", "2", "--none"],
         "opbx extension assign: argument --none: not allowed with argument --user"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert usage_error(capsys, *args).startswith(message)

"""``opbx did create|list|route``."""

from __future__ import annotations

import pytest

from tests.cli.support import Opbx, usage_error

pytestmark = pytest.mark.integration


def test_create_list_and_route(opbx: Opbx) -> None:
    org = opbx.new_org()
    front = opbx.ok("extension", "create", "--org", str(org), "--number", "101")["id"]
    queue = opbx.ok("extension", "create", "--org", str(org), "--number", "102")["id"]
    routed = opbx.ok("did", "create", "--org", str(org), "--number", "+15550100200", "--extension", str(front))
    assert routed == {"id": 1, "phone_number": "+15550100200", "organization_id": org, "extension_id": front}
    plain = opbx.ok("did", "create", "--org", str(org), "--number", "+15550100100")
    assert plain == {"id": 2, "phone_number": "+15550100100", "organization_id": org, "extension_id": None}
    other_org = opbx.new_org("Globex")
    elsewhere = opbx.ok("did", "create", "--org", str(other_org), "--number", "+442071838750")
    assert opbx.ok("did", "list", "--org", str(org)) == [plain, routed]  # by number
    to_queue = opbx.ok("did", "route", "--did", str(plain["id"]), "--extension", str(queue))
    assert to_queue == {**plain, "extension_id": queue}
    to_none = opbx.ok("did", "route", "--did", str(routed["id"]), "--none")
    assert to_none == {**routed, "extension_id": None}
    assert opbx.ok("did", "list", "--org", str(org)) == [to_queue, to_none]
    assert opbx.ok("did", "list", "--org", str(other_org)) == [elsewhere]


def test_refusals_are_one_line_and_change_nothing(opbx: Opbx) -> None:
    org = opbx.new_org()
    other_org = opbx.new_org("Globex")
    mine = opbx.ok("extension", "create", "--org", str(org), "--number", "101")["id"]
    foreign = opbx.ok("extension", "create", "--org", str(other_org), "--number", "101")["id"]
    taken = opbx.ok("did", "create", "--org", str(other_org), "--number", "+15550100100")

    def create(*args: str) -> str:
        return opbx.refused("did", "create", "--org", str(org), *args)

    not_e164 = "is not an E.164 number: write + then 2 to 15 digits, like +15550100100"
    assert create("--number", "15550100100") == f"opbx did create: '15550100100' {not_e164}"
    assert create("--number", "+1 (555) 010") == f"opbx did create: '+1 (555) 010' {not_e164}"
    assert create("--number", "+15550100100") == "opbx did create: the number +15550100100 is already registered"
    assert create("--number", "+15550100300", "--extension", "99") == "opbx did create: no extension 99"
    assert create("--number", "+15550100300", "--extension", str(foreign)) == (
        f"opbx did create: extension {foreign} belongs to organization {other_org}, not {org}"
    )
    assert opbx.refused("did", "create", "--org", "99", "--number", "+15550100300") == (
        "opbx did create: no organization 99"
    )
    assert opbx.refused("did", "route", "--did", "99", "--none") == "opbx did route: no number 99"
    assert opbx.refused("did", "route", "--did", str(taken["id"]), "--extension", str(mine)) == (
        f"opbx did route: extension {mine} belongs to organization {org}, not {other_org}"
    )
    assert opbx.refused("did", "route", "--did", str(taken["id"]), "--extension", "99") == (
        "opbx did route: no extension 99"
    )
    assert opbx.refused("did", "list", "--org", "99") == "opbx did list: no organization 99"
    assert opbx.ok("did", "list", "--org", str(org)) == []
    assert opbx.ok("did", "list", "--org", str(other_org)) == [taken]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["did", "create", "--org", "1", "--number", "+15550100100", "--extension", "007"],
         "opbx did create: argument --extension: '007' is not a record id"),
        (["did", "route", "--did", "1"], "opbx did route: one of the arguments --extension --none is required"),
        (["did", "route", "--did", "1", "--extension", "2", "--none"],
         "opbx did route: argument --none: not allowed with argument --extension"),
        (["did", "route", "--did", "007", "--none"], "opbx did route: argument --did: '007' is not a record id"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert usage_error(capsys, *args).startswith(message)

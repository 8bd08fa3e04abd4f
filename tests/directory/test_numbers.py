"""Extensions and DIDs: created and routed by admins, read by everyone of the organization;
what routing or call history depends on is not deleted."""

from __future__ import annotations

import msgspec
import pytest
from sqlalchemy import select

from opbx.db.engine import Database
from opbx.db.models import AuditEntry, Did, Extension
from opbx.directory import numbers
from opbx.directory.errors import Conflict, DirectoryError, Forbidden, Invalid, NotFound
from opbx.directory.scope import transaction
from tests.directory.support import NO_SUCH_ID, NOW, OPERATOR, People, add_call, audit_entries, count

pytestmark = pytest.mark.integration


async def stored_extensions(database: Database, organization_id: int) -> list[tuple[str, int | None]]:
    async with database.session() as session:
        rows = await session.execute(
            select(Extension.number, Extension.user_id)
            .where(Extension.organization_id == organization_id)
            .order_by(Extension.number)
        )
        return [(number, user_id) for number, user_id in rows]


async def stored_dids(database: Database) -> list[tuple[str, int | None]]:
    async with database.session() as session:
        rows = await session.execute(select(Did.phone_number, Did.extension_id).order_by(Did.phone_number))
        return [(number, extension_id) for number, extension_id in rows]


async def test_an_extension_is_created_for_nobody_or_for_a_user_of_its_organization(
    database: Database, people: People
) -> None:
    acme = people.world.acme
    async with transaction(database, OPERATOR, NOW) as scope:
        unassigned = await numbers.create_extension(scope, acme.id, " 201 ")
    async with transaction(database, people.admin, NOW) as scope:
        assigned = await numbers.create_extension(scope, None, "202", people.acme_agent_id)
    assert msgspec.to_builtins(unassigned) == {
        "id": unassigned.id,
        "number": "201",
        "organization_id": acme.id,
        "user_id": None,
    }
    assert (assigned.number, assigned.organization_id, assigned.user_id) == ("202", acme.id, people.acme_agent_id)
    assert await stored_extensions(database, acme.id) == [
        ("101", acme.user_ids[0]),
        ("102", acme.user_ids[1]),
        ("201", None),
        ("202", acme.user_ids[1]),
    ]
    entries = await audit_entries(database)
    assert [(entry.action, entry.target_id, entry.details) for entry in entries] == [
        ("extension.create", unassigned.id, {"number": "201", "user_id": None}),
        ("extension.create", assigned.id, {"number": "202", "user_id": people.acme_agent_id}),
    ]


async def test_refused_extensions_are_not_created_and_numbers_are_unique_per_organization(
    database: Database, people: People
) -> None:
    acme, globex = people.world.acme, people.world.globex
    cases: list[tuple[int, str, int | None, type[DirectoryError], str]] = [
        (acme.id, "101", None, Conflict, f"extension 101 already exists (extension id {acme.extension_ids[0]})"),
        (acme.id, "12a", None, Invalid, "'12a' is not an extension number: 1 to 16 digits, like 101"),
        (acme.id, "1" * 17, None, Invalid, f"'{'1' * 17}' is not an extension number: 1 to 16 digits, like 101"),
        (NO_SUCH_ID, "300", None, NotFound, f"no organization {NO_SUCH_ID}"),
        (acme.id, "300", NO_SUCH_ID, NotFound, f"no user {NO_SUCH_ID}"),
        (
            acme.id,
            "300",
            globex.user_ids[1],
            Invalid,
            f"user {globex.user_ids[1]} belongs to organization {globex.id}, not {acme.id}",
        ),
    ]
    for organization_id, number, user_id, error, message in cases:
        async with transaction(database, OPERATOR, NOW) as scope:
            with pytest.raises(error) as refused:
                await numbers.create_extension(scope, organization_id, number, user_id)
        assert refused.value.message == message
    async with transaction(database, people.admin, NOW) as scope:
        with pytest.raises(NotFound) as hidden:
            await numbers.create_extension(scope, None, "300", globex.user_ids[1])
    assert hidden.value.message == f"no user {globex.user_ids[1]} in your organization"
    for actor in (people.supervisor, people.agent):
        async with transaction(database, actor, NOW) as scope:
            with pytest.raises(Forbidden):
                await numbers.create_extension(scope, None, "300")
    assert await count(database, Extension) == 4
    assert await count(database, AuditEntry) == 0
    async with transaction(database, OPERATOR, NOW) as scope:  # another organization may have the same number
        assert (await numbers.create_extension(scope, globex.id, "103")).organization_id == globex.id
        assert (await numbers.create_extension(scope, acme.id, "103")).organization_id == acme.id


async def test_everyone_of_the_organization_reads_its_extensions_and_numbers(
    database: Database, people: People
) -> None:
    acme, globex = people.world.acme, people.world.globex
    for actor in (people.admin, people.supervisor, people.agent):
        async with transaction(database, actor, NOW) as scope:
            extensions = await numbers.list_extensions(scope)
            dids = await numbers.list_dids(scope)
            assert (await numbers.get_extension(scope, acme.extension_ids[1])).number == "102"
            assert (await numbers.get_did(scope, acme.did_ids[1])).phone_number == "+15550002000"
            with pytest.raises(NotFound):
                await numbers.list_extensions(scope, globex.id)
            with pytest.raises(NotFound):
                await numbers.list_dids(scope, globex.id)
        assert [(record.id, record.number, record.user_id) for record in extensions] == [
            (acme.extension_ids[0], "101", acme.user_ids[0]),
            (acme.extension_ids[1], "102", acme.user_ids[1]),
        ]
        assert [(record.phone_number, record.extension_id) for record in dids] == [
            ("+15550001000", acme.extension_ids[0]),
            ("+15550002000", None),
        ]
    async with transaction(database, OPERATOR, NOW) as scope:
        assert [record.organization_id for record in await numbers.list_dids(scope, globex.id)] == [globex.id] * 2


async def test_an_extension_is_assigned_unassigned_and_renumbered(database: Database, people: People) -> None:
    acme, globex = people.world.acme, people.world.globex
    extension = acme.extension_ids[1]
    async with transaction(database, people.admin, NOW) as scope:
        assert (await numbers.update_extension(scope, extension, user_id=people.supervisor_id)).user_id == (
            people.supervisor_id
        )
        assert (await numbers.update_extension(scope, extension, user_id=None)).user_id is None
        assert (await numbers.update_extension(scope, extension, number="112")).number == "112"
        with pytest.raises(Conflict, match="extension 101 already exists"):
            await numbers.update_extension(scope, extension, number="101")
        with pytest.raises(NotFound):
            await numbers.update_extension(scope, extension, user_id=globex.user_ids[0])
        with pytest.raises(NotFound):
            await numbers.update_extension(scope, globex.extension_ids[0], user_id=None)
    async with transaction(database, OPERATOR, NOW) as scope:
        with pytest.raises(Invalid, match=f"user {globex.user_ids[0]} belongs to organization {globex.id}"):
            await numbers.update_extension(scope, extension, user_id=globex.user_ids[0])
    async with transaction(database, people.supervisor, NOW) as scope:
        with pytest.raises(Forbidden):
            await numbers.update_extension(scope, extension, user_id=people.supervisor_id)
    assert await stored_extensions(database, acme.id) == [("101", acme.user_ids[0]), ("112", None)]
    assert [entry.details for entry in await audit_entries(database)] == [
        {"user_id": people.supervisor_id},
        {"user_id": None},
        {"number": "112"},
    ]


async def test_an_extension_a_number_routes_to_is_not_deleted(database: Database, people: People) -> None:
    acme = people.world.acme
    routed = acme.extension_ids[0]
    async with transaction(database, people.admin, NOW) as scope:
        with pytest.raises(Conflict) as refused:
            await numbers.delete_extension(scope, routed)
    assert refused.value.message == ("extension 101 still receives +15550001000; route those numbers elsewhere first")
    async with transaction(database, people.admin, NOW) as scope:
        await numbers.update_did(scope, acme.did_ids[0], extension_id=None)
        deleted = await numbers.delete_extension(scope, routed)
    assert deleted.number == "101"
    assert await stored_extensions(database, acme.id) == [("102", acme.user_ids[1])]
    assert [entry.action for entry in await audit_entries(database)] == ["did.update", "extension.delete"]


async def test_an_extension_or_a_number_in_the_call_history_is_not_deleted(database: Database, people: People) -> None:
    acme = people.world.acme
    await add_call(database, acme.id, extension_id=acme.extension_ids[1])
    await add_call(database, acme.id, did_id=acme.did_ids[0])
    async with transaction(database, OPERATOR, NOW) as scope:
        with pytest.raises(Conflict) as extension_refused:
            await numbers.delete_extension(scope, acme.extension_ids[1])
        with pytest.raises(Conflict) as did_refused:
            await numbers.delete_did(scope, acme.did_ids[0])
    assert extension_refused.value.message == (
        "extension 102 is in the history of 1 call(s); unassign it (no user) instead"
    )
    assert did_refused.value.message == ("the number +15550001000 is in the history of 1 call(s); it cannot be deleted")
    assert await count(database, Extension) == 4
    async with transaction(database, OPERATOR, NOW) as scope:
        unassigned = await numbers.update_extension(scope, acme.extension_ids[1], user_id=None)
        deleted = await numbers.delete_did(scope, acme.did_ids[1])
    assert unassigned.user_id is None
    assert deleted.phone_number == "+15550002000"
    assert [number for number, _ in await stored_dids(database)] == ["+15550001000", "+16660001000", "+16660002000"]
    assert [entry.action for entry in await audit_entries(database)] == ["extension.update", "did.delete"]


async def test_only_admins_delete_and_only_in_their_organization(database: Database, people: People) -> None:
    globex = people.world.globex
    async with transaction(database, OPERATOR, NOW) as scope:
        spare = await numbers.create_extension(scope, people.world.acme.id, "199")
    for actor in (people.supervisor, people.agent):
        async with transaction(database, actor, NOW) as scope:
            with pytest.raises(Forbidden):
                await numbers.delete_extension(scope, spare.id)
            with pytest.raises(Forbidden):
                await numbers.delete_did(scope, people.world.acme.did_ids[1])
    async with transaction(database, people.admin, NOW) as scope:
        with pytest.raises(NotFound):
            await numbers.delete_extension(scope, globex.extension_ids[1])
        with pytest.raises(NotFound):
            await numbers.delete_did(scope, globex.did_ids[1])
        await numbers.delete_extension(scope, spare.id)
    assert await count(database, Extension) == 4
    assert await count(database, Did) == 4


async def test_a_did_is_created_in_e164_and_routed_to_an_extension_of_its_organization(
    database: Database, people: People
) -> None:
    acme = people.world.acme
    async with transaction(database, OPERATOR, NOW) as scope:
        routed = await numbers.create_did(scope, acme.id, " +442071838750 ", acme.extension_ids[1])
    async with transaction(database, people.admin, NOW) as scope:
        unrouted = await numbers.create_did(scope, None, "+15550003000")
    assert msgspec.to_builtins(routed) == {
        "id": routed.id,
        "phone_number": "+442071838750",
        "organization_id": acme.id,
        "extension_id": acme.extension_ids[1],
    }
    assert (unrouted.organization_id, unrouted.extension_id) == (acme.id, None)
    assert [(entry.action, entry.details) for entry in await audit_entries(database)] == [
        ("did.create", {"phone_number": "+442071838750", "extension_id": acme.extension_ids[1]}),
        ("did.create", {"phone_number": "+15550003000", "extension_id": None}),
    ]


async def test_refused_dids_are_not_created(database: Database, people: People) -> None:
    acme, globex = people.world.acme, people.world.globex
    not_e164 = "is not an E.164 number: write + then 2 to 15 digits, like +15550100100"
    cases: list[tuple[int, str, int | None, type[DirectoryError], str]] = [
        (acme.id, "15550100100", None, Invalid, f"'15550100100' {not_e164}"),
        (acme.id, "+1 555 010", None, Invalid, f"'+1 555 010' {not_e164}"),
        (acme.id, "+15550001000", None, Conflict, "the number +15550001000 is already registered"),
        # a number belongs to one organization only
        (acme.id, "+16660001000", None, Conflict, "the number +16660001000 is already registered"),
        (NO_SUCH_ID, "+15550009000", None, NotFound, f"no organization {NO_SUCH_ID}"),
        (acme.id, "+15550009000", NO_SUCH_ID, NotFound, f"no extension {NO_SUCH_ID}"),
        (
            acme.id,
            "+15550009000",
            globex.extension_ids[0],
            Invalid,
            f"extension {globex.extension_ids[0]} belongs to organization {globex.id}, not {acme.id}",
        ),
    ]
    for organization_id, number, extension_id, error, message in cases:
        async with transaction(database, OPERATOR, NOW) as scope:
            with pytest.raises(error) as refused:
                await numbers.create_did(scope, organization_id, number, extension_id)
        assert refused.value.message == message
    async with transaction(database, people.admin, NOW) as scope:
        with pytest.raises(NotFound) as hidden:
            await numbers.create_did(scope, None, "+15550009000", globex.extension_ids[0])
    assert hidden.value.message == f"no extension {globex.extension_ids[0]} in your organization"
    for actor in (people.supervisor, people.agent):
        async with transaction(database, actor, NOW) as scope:
            with pytest.raises(Forbidden):
                await numbers.create_did(scope, None, "+15550009000")
    assert await count(database, Did) == 4
    assert await count(database, AuditEntry) == 0


async def test_a_did_is_routed_unrouted_and_renumbered(database: Database, people: People) -> None:
    acme, globex = people.world.acme, people.world.globex
    did = acme.did_ids[1]
    async with transaction(database, people.admin, NOW) as scope:
        assert (await numbers.update_did(scope, did, extension_id=acme.extension_ids[1])).extension_id == (
            acme.extension_ids[1]
        )
        assert (await numbers.update_did(scope, did, phone_number="+15550002999")).phone_number == "+15550002999"
        with pytest.raises(Conflict, match=r"the number \+16660001000 is already registered"):
            await numbers.update_did(scope, did, phone_number="+16660001000")
        with pytest.raises(Invalid, match=r"is not an E\.164 number"):
            await numbers.update_did(scope, did, phone_number="5550002999")
        with pytest.raises(NotFound, match=f"no extension {globex.extension_ids[0]} in your organization"):
            await numbers.update_did(scope, did, extension_id=globex.extension_ids[0])
        with pytest.raises(NotFound, match=f"no number {globex.did_ids[0]} in your organization"):
            await numbers.update_did(scope, globex.did_ids[0], extension_id=None)
    async with transaction(database, OPERATOR, NOW) as scope:
        with pytest.raises(Invalid, match=f"extension {globex.extension_ids[0]} belongs to organization {globex.id}"):
            await numbers.update_did(scope, did, extension_id=globex.extension_ids[0])
        assert (await numbers.update_did(scope, did, extension_id=None)).extension_id is None
    async with transaction(database, people.agent, NOW) as scope:
        with pytest.raises(Forbidden):
            await numbers.update_did(scope, did, extension_id=acme.extension_ids[1])
    assert await stored_dids(database) == [
        ("+15550001000", acme.extension_ids[0]),
        ("+15550002999", None),
        ("+16660001000", globex.extension_ids[0]),
        ("+16660002000", None),
    ]


async def test_extensions_are_listed_in_numeric_order(database: Database, people: People) -> None:
    acme = people.world.acme.id
    async with transaction(database, OPERATOR, NOW) as scope:
        for number in ("1000", "99", "110"):
            await numbers.create_extension(scope, acme, number)
        listed = [extension.number for extension in await numbers.list_extensions(scope, acme)]
    assert listed == ["99", "101", "102", "110", "1000"]

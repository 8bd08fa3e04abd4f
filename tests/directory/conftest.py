"""The world of ``tests/helpers/world.py`` with an actor for each role."""

from __future__ import annotations

import pytest

from opbx.db.engine import Database
from opbx.directory.rules import Role
from tests.directory.support import People, actor_for, add_user
from tests.helpers.world import World


@pytest.fixture
async def people(database: Database, world: World) -> People:
    supervisor_id = await add_user(database, world.acme.id, "supervisor@acme.example", Role.SUPERVISOR.value)
    return People(
        world=world,
        admin=await actor_for(database, world.acme.user_ids[0]),
        supervisor=await actor_for(database, supervisor_id),
        agent=await actor_for(database, world.acme.user_ids[1]),
        globex_admin=await actor_for(database, world.globex.user_ids[0]),
    )

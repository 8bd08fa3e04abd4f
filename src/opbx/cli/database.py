"""``opbx db upgrade``: migrate the database to the schema this version needs."""

from __future__ import annotations

import argparse
from typing import Any

from opbx.cli.common import DATABASE, LOGGING, Parser, configure_logging, database_url, run
from opbx.configuration import mask_url

__all__ = ["register"]


def _upgrade(args: argparse.Namespace) -> int:
    from opbx.db.engine import Database

    configure_logging(args.log_level, default="warning")
    url = database_url(args)

    async def upgrade() -> None:
        database = Database(url)
        try:
            await database.migrate()
        finally:
            await database.dispose()

    run(upgrade())
    print(f"{mask_url(url)} is at the newest schema", flush=True)
    return 0


def register(commands: Any) -> None:
    db: Parser = commands.add_parser("db", help="database maintenance")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade: Parser = actions.add_parser(
        "upgrade", parents=[LOGGING, DATABASE], help="create or migrate the schema to the newest version"
    )
    upgrade.set_defaults(handler=_upgrade)

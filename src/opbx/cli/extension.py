"""``opbx extension create|list|assign``: an organization's extensions and who has them."""

from __future__ import annotations

import argparse
from typing import Any

from opbx.cli.common import DATABASE, LOGGING, Parser, directory_command, record_id
from opbx.directory import numbers
from opbx.directory.scope import Scope

__all__ = ["register"]


async def _create(args: argparse.Namespace, scope: Scope) -> object:
    return await numbers.create_extension(scope, args.org, args.number, args.user)


async def _list(args: argparse.Namespace, scope: Scope) -> object:
    return await numbers.list_extensions(scope, args.org)


async def _assign(args: argparse.Namespace, scope: Scope) -> object:
    return await numbers.update_extension(scope, args.extension, user_id=None if args.none else args.user)


def register(commands: Any) -> None:
    extension: Parser = commands.add_parser("extension", help="create and list extensions; assign them to users")
    actions = extension.add_subparsers(dest="action", required=True, metavar="ACTION")
    parents = [LOGGING, DATABASE]

    create: Parser = actions.add_parser("create", parents=parents, help="create an extension")
    create.add_argument("--org", type=record_id, required=True, metavar="ID", help="the organization's id")
    create.add_argument("--number", required=True, help="what callers dial inside the PBX: 1 to 16 digits")
    create.add_argument("--user", type=record_id, metavar="ID", help="the user who has it (default: nobody)")
    create.set_defaults(handler=directory_command(_create))

    listing: Parser = actions.add_parser("list", parents=parents, help="list an organization's extensions")
    listing.add_argument("--org", type=record_id, required=True, metavar="ID", help="the organization's id")
    listing.set_defaults(handler=directory_command(_list))

    assign: Parser = actions.add_parser("assign", parents=parents, help="give an extension to a user, or to nobody")
    assign.add_argument("--extension", type=record_id, required=True, metavar="ID", help="the extension's id")
    whom = assign.add_mutually_exclusive_group(required=True)
    whom.add_argument("--user", type=record_id, metavar="ID", help="a user of the extension's organization")
    whom.add_argument("--none", action="store_true", help="unassign it")
    assign.set_defaults(handler=directory_command(_assign))

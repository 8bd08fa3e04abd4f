"""``opbx did create|list|route``: the phone numbers (DIDs) the provider sends to an organization."""

from __future__ import annotations

import argparse
from typing import Any

from opbx.cli.common import DATABASE, LOGGING, Parser, directory_command, record_id
from opbx.directory import numbers
from opbx.directory.scope import Scope

__all__ = ["register"]


async def _create(args: argparse.Namespace, scope: Scope) -> object:
    return await numbers.create_did(scope, args.org, args.number, args.extension)


async def _list(args: argparse.Namespace, scope: Scope) -> object:
    return await numbers.list_dids(scope, args.org)


async def _route(args: argparse.Namespace, scope: Scope) -> object:
    return await numbers.update_did(scope, args.did, extension_id=None if args.none else args.extension)


def register(commands: Any) -> None:
    did: Parser = commands.add_parser("did", help="register phone numbers and route them to extensions")
    actions = did.add_subparsers(dest="action", required=True, metavar="ACTION")
    parents = [LOGGING, DATABASE]

    create: Parser = actions.add_parser("create", parents=parents, help="register a phone number")
    create.add_argument("--org", type=record_id, required=True, metavar="ID", help="the organization's id")
    create.add_argument("--number", required=True, metavar="E164", help="the number in E.164, like +15550100100")
    create.add_argument(
        "--extension", type=record_id, metavar="ID", help="the extension it rings (default: none in particular)"
    )
    create.set_defaults(handler=directory_command(_create))

    listing: Parser = actions.add_parser("list", parents=parents, help="list an organization's numbers")
    listing.add_argument("--org", type=record_id, required=True, metavar="ID", help="the organization's id")
    listing.set_defaults(handler=directory_command(_list))

    route: Parser = actions.add_parser("route", parents=parents, help="route a number to an extension, or to none")
    route.add_argument("--did", type=record_id, required=True, metavar="ID", help="the number's id")
    where = route.add_mutually_exclusive_group(required=True)
    where.add_argument("--extension", type=record_id, metavar="ID", help="an extension of the number's organization")
    where.add_argument("--none", action="store_true", help="ring no extension in particular")
    route.set_defaults(handler=directory_command(_route))

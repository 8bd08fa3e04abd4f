"""``opbx org create|list|rotate-secret``: the operator's organizations.

The webhook secret is printed only by ``create`` and ``rotate-secret``.
"""

from __future__ import annotations

import argparse
from typing import Any

from opbx.cli.common import DATABASE, LOGGING, Parser, directory_command, record_id
from opbx.directory import organizations
from opbx.directory.scope import Scope

__all__ = ["register"]


async def _create(args: argparse.Namespace, scope: Scope) -> object:
    return await organizations.create(scope, args.name, args.webhook_secret)


async def _list(args: argparse.Namespace, scope: Scope) -> object:
    return await organizations.list_all(scope)


async def _rotate_secret(args: argparse.Namespace, scope: Scope) -> object:
    return await organizations.rotate_secret(scope, args.org)


def register(commands: Any) -> None:
    org: Parser = commands.add_parser("org", help="create and list organizations, rotate their webhook secret")
    actions = org.add_subparsers(dest="action", required=True, metavar="ACTION")
    parents = [LOGGING, DATABASE]

    create: Parser = actions.add_parser("create", parents=parents, help="create an organization")
    create.add_argument("--name", required=True, help="the organization's name")
    create.add_argument(
        "--webhook-secret", metavar="SECRET", help="the provider's signing secret (default: a strong random one)"
    )
    create.set_defaults(handler=directory_command(_create))

    listing: Parser = actions.add_parser("list", parents=parents, help="list every organization")
    listing.set_defaults(handler=directory_command(_list))

    rotate: Parser = actions.add_parser(
        "rotate-secret", parents=parents, help="give an organization a new webhook secret (printed once)"
    )
    rotate.add_argument("--org", type=record_id, required=True, metavar="ID", help="the organization's id")
    rotate.set_defaults(handler=directory_command(_rotate_secret))

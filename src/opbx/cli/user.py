"""``opbx user create|list|set-password|disable|enable``: the people of an organization.

Passwords come from ``--password`` or, kept out of the shell's history and the process
list, from the first line of stdin with ``--password-stdin``.
"""

from __future__ import annotations

import argparse
from typing import Any

from opbx.cli.common import DATABASE, LOGGING, Parser, directory_command, read_password, record_id
from opbx.directory import users
from opbx.directory.scope import Scope

__all__ = ["register"]


async def _create(args: argparse.Namespace, scope: Scope) -> object:
    return await users.create(
        scope, args.org, email=args.email, name=args.name, role=args.role, password=read_password(args)
    )


async def _list(args: argparse.Namespace, scope: Scope) -> object:
    return await users.list_users(scope, args.org)


async def _set_password(args: argparse.Namespace, scope: Scope) -> object:
    return await users.set_password(scope, args.user, read_password(args))


async def _disable(args: argparse.Namespace, scope: Scope) -> object:
    return await users.disable(scope, args.user)


async def _enable(args: argparse.Namespace, scope: Scope) -> object:
    return await users.enable(scope, args.user)


def _password_options(parser: argparse.ArgumentParser) -> None:
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument("--password", metavar="P", help="the password (visible in the process list)")
    given.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")


def register(commands: Any) -> None:
    user: Parser = commands.add_parser("user", help="create, list and disable users; set their password")
    actions = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    parents = [LOGGING, DATABASE]

    create: Parser = actions.add_parser("create", parents=parents, help="create a user in an organization")
    create.add_argument("--org", type=record_id, required=True, metavar="ID", help="the organization's id")
    create.add_argument("--email", required=True, help="their sign-in, unique across organizations")
    create.add_argument("--name", required=True, help="their name as colleagues see it")
    create.add_argument("--role", required=True, metavar="ROLE", help="admin, supervisor or agent")
    _password_options(create)
    create.set_defaults(handler=directory_command(_create))

    listing: Parser = actions.add_parser("list", parents=parents, help="list the users of an organization")
    listing.add_argument("--org", type=record_id, required=True, metavar="ID", help="the organization's id")
    listing.set_defaults(handler=directory_command(_list))

    password: Parser = actions.add_parser(
        "set-password", parents=parents, help="set a user's password (signs them out everywhere)"
    )
    password.add_argument("--user", type=record_id, required=True, metavar="ID", help="the user's id")
    _password_options(password)
    password.set_defaults(handler=directory_command(_set_password))

    disable: Parser = actions.add_parser(
        "disable", parents=parents, help="stop a user signing in, and revoke every token they hold"
    )
    disable.add_argument("--user", type=record_id, required=True, metavar="ID", help="the user's id")
    disable.set_defaults(handler=directory_command(_disable))

    enable: Parser = actions.add_parser("enable", parents=parents, help="let a disabled user sign in again")
    enable.add_argument("--user", type=record_id, required=True, metavar="ID", help="the user's id")
    enable.set_defaults(handler=directory_command(_enable))

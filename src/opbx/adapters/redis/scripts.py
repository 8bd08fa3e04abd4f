"""The Lua scripts of the Redis adapter, one file each under ``lua/``, shipped as package data.

Each file's header documents its KEYS and ARGV. A script runs atomically in Redis, so a
change and the answer it gives (first socket of a user? channel now vacant?) are one step
for the whole cluster. https://redis.io/docs/latest/develop/interact/programmability/eval-intro/
"""

from __future__ import annotations

from enum import StrEnum
from importlib.resources import files

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

__all__ = ["Script", "Scripts", "source"]


class Script(StrEnum):
    """The scripts, named as their files (``lua/{name}.lua``)."""

    CONNECT = "connect"
    DISCONNECT = "disconnect"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    ADD_MEMBER = "add_member"
    REMOVE_MEMBER = "remove_member"
    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    HEARTBEAT = "heartbeat"
    DEAD_NODES = "dead_nodes"


def source(script: Script) -> str:
    """A script's Lua text, read from the installed package."""
    return files(__package__).joinpath("lua", f"{script.value}.lua").read_text(encoding="utf-8")


class Scripts:
    """Every script registered with one client: run by SHA, loaded again where Redis lacks it
    (a restarted or newly promoted Redis has an empty script cache)."""

    def __init__(self, client: Redis) -> None:
        self._registered = {script: client.register_script(source(script)) for script in Script}

    def __getitem__(self, script: Script) -> AsyncScript:
        return self._registered[script]

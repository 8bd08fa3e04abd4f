"""Wait for something observable instead of sleeping for a guessed while.

A fixed sleep races on a loaded machine (too short) or wastes time (too long); polling an
observable ends as soon as it holds and fails, naming what was awaited, when it never does.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

__all__ = ["eventually"]

T = TypeVar("T")


@overload
async def eventually(
    probe: Callable[[], Awaitable[T | None]], what: str, *, timeout: float = ..., interval: float = ...
) -> T: ...


@overload
async def eventually(probe: Callable[[], T | None], what: str, *, timeout: float = ..., interval: float = ...) -> T: ...


async def eventually(probe: Callable[[], Any], what: str, *, timeout: float = 10.0, interval: float = 0.01) -> Any:
    """The first truthy result of ``probe`` (a function or coroutine function), polled every ``interval``.

    Fails with an AssertionError naming ``what`` after ``timeout`` seconds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = probe()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() >= deadline:
            raise AssertionError(f"not within {timeout:g}s: {what}")
        await asyncio.sleep(interval)

"""Fan-out: the hot path. One frame, many sockets, one write per socket per loop turn.

The frame is built once by the caller (server frames are unmasked, so the same bytes
serve every socket). :meth:`WriteCoalescer.send_many` only appends that one object to
each socket's queue, with no await and no system call; the flush, scheduled once
per loop iteration, joins each socket's queue and writes it with a single
``transport.write``. Under load this turns N frames for a socket into one write;
at rest it costs one ``call_soon``. See ``docs/benchmarks.md`` for the figures.

:meth:`WriteCoalescer.after_flush` lets the metrics time a publish to the write that
carries it: one callback per publish, run once per flush, never per socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Protocol

__all__ = ["Writable", "WriteCoalescer"]


class Transport(Protocol):
    def write(self, data: bytes, /) -> None: ...


class Writable(Protocol):
    """A socket as the coalescer sees it: a queue of frames and its transport.

    The owner empties ``out`` when the socket closes, so a flush never writes to a
    closed transport.
    """

    out: list[bytes]

    @property
    def transport(self) -> Transport: ...


class WriteCoalescer:
    """Queues frames per socket and writes every dirty socket once per loop iteration."""

    __slots__ = ("_after", "_dirty", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._dirty: list[Writable] = []
        self._after: list[Callable[[], None]] = []

    @property
    def pending(self) -> bool:
        """Whether frames are queued for the next flush."""
        return bool(self._dirty)

    def after_flush(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the queued frames are written (at once if none are queued)."""
        if self._dirty:
            self._after.append(callback)
        else:
            callback()

    def send(self, target: Writable, frame: bytes) -> None:
        out = target.out
        if not out:
            if not self._dirty:
                self._loop.call_soon(self.flush)
            self._dirty.append(target)
        out.append(frame)

    def send_many(self, frame: bytes, targets: Iterable[Writable], exclude: object = None) -> None:
        """Queue ``frame`` for every target but ``exclude``: the fan-out loop."""
        dirty = self._dirty
        if not dirty:
            self._loop.call_soon(self.flush)
        append_dirty = dirty.append
        for target in targets:
            if target is exclude:
                continue
            out = target.out
            if not out:
                append_dirty(target)
            out.append(frame)

    def flush(self) -> None:
        """Write each dirty socket's queue in one call."""
        dirty = self._dirty
        if not dirty:
            return
        self._dirty = []
        for target in dirty:
            out = target.out
            if not out:
                continue
            data = out[0] if len(out) == 1 else b"".join(out)
            out.clear()  # before writing: a write can re-enter (pause_writing drops the socket)
            target.transport.write(data)
        after = self._after
        if after:
            self._after = []
            for callback in after:
                callback()

"""Write coalescing: queued frames reach each socket in one write per loop turn."""

from __future__ import annotations

import asyncio

from opbx.realtime.fanout import WriteCoalescer


class RecordingTransport:
    """A fake transport that records every write (a fake, not a mock: it behaves)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)


class RecordingSocket:
    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.transport = RecordingTransport()

    @property
    def writes(self) -> list[bytes]:
        return self.transport.writes


async def test_frames_queued_in_one_turn_are_written_once_per_socket() -> None:
    coalescer = WriteCoalescer(asyncio.get_running_loop())
    sockets = [RecordingSocket() for _ in range(3)]
    coalescer.send_many(b"a", sockets)
    coalescer.send_many(b"b", sockets, exclude=sockets[1])
    coalescer.send(sockets[2], b"c")
    assert all(socket.writes == [] for socket in sockets)  # nothing written yet
    await asyncio.sleep(0)
    assert sockets[0].writes == [b"ab"]
    assert sockets[1].writes == [b"a"]
    assert sockets[2].writes == [b"abc"]
    assert all(socket.out == [] for socket in sockets)


async def test_the_same_frame_object_is_shared_not_copied() -> None:
    coalescer = WriteCoalescer(asyncio.get_running_loop())
    sockets = [RecordingSocket() for _ in range(2)]
    frame = b"frame"
    coalescer.send_many(frame, sockets)
    await asyncio.sleep(0)
    assert sockets[0].writes[0] is frame
    assert sockets[1].writes[0] is frame


async def test_later_turns_write_again() -> None:
    coalescer = WriteCoalescer(asyncio.get_running_loop())
    socket = RecordingSocket()
    coalescer.send(socket, b"1")
    await asyncio.sleep(0)
    coalescer.send(socket, b"2")
    await asyncio.sleep(0)
    assert socket.writes == [b"1", b"2"]


async def test_a_socket_emptied_before_the_flush_is_skipped() -> None:
    coalescer = WriteCoalescer(asyncio.get_running_loop())
    socket = RecordingSocket()
    coalescer.send(socket, b"1")
    socket.out.clear()  # what a close does
    await asyncio.sleep(0)
    assert socket.writes == []

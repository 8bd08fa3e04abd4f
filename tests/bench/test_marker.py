"""Counting markers across chunk boundaries."""

from __future__ import annotations

import pytest

from opbx.bench.marker import MarkerCounter, self_overlaps
from opbx.protocol.frames import encode_text

MARKER = b"~ob1234abcd"


def _stream(count: int) -> bytes:
    return b"".join(encode_text(b'{"event":"e","data":"' + MARKER + b"x" * index + b'"}') for index in range(count))


def test_every_split_point_counts_each_marker_once() -> None:
    stream = _stream(5)
    for split in range(len(stream) + 1):
        counter = MarkerCounter(MARKER)
        counter.feed(stream[:split])
        counter.feed(stream[split:])
        assert counter.count == 5, split


@pytest.mark.parametrize("size", [1, 2, 3, 7, 10, 11, 12, 64, 4096])
def test_chunks_of_any_size(size: int) -> None:
    stream = _stream(40)
    counter = MarkerCounter(MARKER)
    found = sum(counter.feed(stream[index : index + size]) for index in range(0, len(stream), size))
    assert found == counter.count == 40


def test_adjacent_markers() -> None:
    counter = MarkerCounter(MARKER)
    stream = MARKER * 3
    for split in range(len(stream) + 1):
        counter = MarkerCounter(MARKER)
        assert counter.feed(stream[:split]) + counter.feed(stream[split:]) == 3


def test_markers_that_overlap_themselves_are_refused() -> None:
    assert self_overlaps(b"abab")
    assert self_overlaps(b"aa")
    assert not self_overlaps(MARKER)
    assert not self_overlaps(b"pusher:ping")
    for marker in (b"", b"abcab"):
        with pytest.raises(ValueError, match="overlaps"):
            MarkerCounter(marker)

"""Benchmark event data: markers, stamps and padding."""

from __future__ import annotations

import time

from opbx.bench.marker import self_overlaps
from opbx.bench.payload import filler, new_marker, parse_stamp, stamped


def test_markers_are_fresh_and_do_not_overlap_themselves() -> None:
    first, second = new_marker(), new_marker()
    assert first != second
    assert not self_overlaps(first.encode())


def test_stamped_data_round_trips() -> None:
    before = time.monotonic_ns()
    data = stamped("~obmarker", 7, 64)
    assert len(data) == 64
    stamp = parse_stamp(data, "~obmarker")
    assert stamp is not None
    assert stamp[0] == 7
    assert before <= stamp[1] <= time.monotonic_ns()


def test_foreign_data_is_ignored() -> None:
    assert parse_stamp(stamped("~obother", 1, 10), "~obmarker") is None
    assert parse_stamp("~obmarker:x:y:", "~obmarker") is None
    assert parse_stamp("hello", "~obmarker") is None


def test_filler_pads_but_never_cuts() -> None:
    assert filler("~ob1", 8) == "~ob1xxxx"
    assert filler("~ob12345", 4) == "~ob12345"

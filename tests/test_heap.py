"""The start-up heap frozen out of the collector's full passes (:mod:`opbx.heap`)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from opbx.heap import freeze_startup_heap


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_objects_alive_at_start_up_are_frozen_and_garbage_is_not(thawed: None) -> None:
    class Node:
        def __init__(self) -> None:
            self.other: Node | None = None

    kept = Node()
    cycle_a, cycle_b = Node(), Node()
    cycle_a.other, cycle_b.other = cycle_b, cycle_a
    garbage = weakref.ref(cycle_a)
    del cycle_a, cycle_b  # unreachable: a cycle only a collection frees

    frozen = freeze_startup_heap()

    assert frozen == gc.get_freeze_count() > 0
    tracked = {id(thing) for thing in gc.get_objects()}
    assert id(kept) not in tracked  # out of every generation the collector walks
    assert garbage() is None  # the cycle was collected, not frozen for the process's life

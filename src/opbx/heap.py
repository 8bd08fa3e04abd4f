"""Keeping the garbage collector's full passes short in a long-running server.

Start-up leaves about 100,000 objects that live as long as the process: modules, SQLAlchemy's
tables and compiled statements, the app's routes. CPython's full collection walks every one
of them each time it runs; measured in ``opbx api`` and ``opbx realtime``, each pass stalled
serving for 50-80 ms, the whole p99 of a webhook's latency (``docs/benchmarks.md``, issue 11).
:func:`freeze_startup_heap` moves them to the permanent generation once the server is up, so
later passes walk only what serving made
(https://docs.python.org/3/library/gc.html#gc.freeze).
"""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_heap"]


def freeze_startup_heap() -> int:
    """Collect what start-up left as garbage, then freeze the rest; return how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()

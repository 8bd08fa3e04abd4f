"""The call log's write side (:mod:`opbx.telephony.store`)."""

from __future__ import annotations

import pytest

from opbx.telephony.store import _one_statement


@pytest.mark.parametrize("write_call", ["insert", "update", "none"])
@pytest.mark.parametrize("events", [0, 1, 3])
def test_each_shape_of_the_one_statement_is_compiled_once_and_cached(write_call: str, events: int) -> None:
    """SQLAlchemy compiles a statement without a cache key at every execution: 1 ms of CPU a webhook here."""
    assert _one_statement(write_call, events)._generate_cache_key() is not None

from __future__ import annotations

from opbx.protocol.ratelimit import TokenBucket


def test_allows_a_burst_of_rate_then_refills_over_time() -> None:
    bucket = TokenBucket(10, now=0.0)
    assert [bucket.allow(0.0) for _ in range(11)] == [True] * 10 + [False]
    assert bucket.allow(0.05) is False
    assert bucket.allow(0.1) is True
    assert bucket.allow(0.1) is False


def test_refill_never_exceeds_the_burst() -> None:
    bucket = TokenBucket(2, now=0.0)
    assert [bucket.allow(100.0) for _ in range(3)] == [True, True, False]

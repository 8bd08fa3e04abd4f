"""The breakdown of a webhook's time: two scrapes of the API's metrics, divided by what happened between."""

from __future__ import annotations

import pytest

from opbx.bench.breakdown import ROWS, Breakdown, Scrape
from opbx.telephony.timing import PHASES


def at(seconds: float, requests: float, relay: tuple[float, float]) -> Scrape:
    return Scrape(dict.fromkeys(PHASES, seconds), requests, *relay)


def test_per_webhook_milliseconds_and_http_as_what_the_phases_leave() -> None:
    before = at(1.0, 10.0, (2.0, 100))
    after = at(1.2, 12.0, (2.5, 300))  # 100 webhooks: 0.2 s per phase, 2 s of requests; 200 events
    ms = Breakdown.between(before, after, 100).ms
    assert list(ms) == list(ROWS)
    assert all(ms[phase] == pytest.approx(2.0) for phase in PHASES)
    assert ms["http"] == pytest.approx(20.0 - 2.0 * len(PHASES))
    assert ms["relay"] == pytest.approx(2.5)  # 0.5 s over 200 events
    assert "time per webhook    20.00 ms in the API" in Breakdown(ms).lines()[0]


def test_nothing_measured_gives_no_lines() -> None:
    same = at(1.0, 1.0, (1.0, 1))
    assert Breakdown.between(same, same, 0).ms == {}
    assert Breakdown({}).lines() == []

"""Where a webhook's time goes, read from the API's own ``/metrics`` before and after a phase.

The API sums, by phase, the wall-clock time applying webhooks takes (:mod:`opbx.telephony.timing`),
the time each request takes from the ASGI application's view (``opbx_api_request_duration_seconds``)
and the time of the relay's rounds that sent events. The difference of two scrapes, divided by
the webhooks (or events) between them, is the breakdown: ``http`` is a request's time less the
unit of work's phases (routing, middleware, the body, the answer, the event loop's turns).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from opbx.telephony.ingest import WebhookKind, webhook_path
from opbx.telephony.timing import PHASES

__all__ = ["ROWS", "Breakdown", "Scrape", "scrape"]

_ROUTE = webhook_path(WebhookKind.CALL_INITIATED)
ROWS = ("http", *PHASES, "relay")
"""The breakdown's rows, in a webhook's order; ``relay`` is per event sent."""


@dataclass(frozen=True, slots=True)
class Scrape:
    phases: dict[str, float]
    requests: float
    """Seconds of the webhook route's answered requests."""
    relay_seconds: float
    relay_events: float


async def scrape(http: httpx.AsyncClient) -> Scrape:
    response = await http.get("/metrics")
    response.raise_for_status()
    phases = dict.fromkeys(PHASES, 0.0)
    requests = relay_seconds = relay_events = 0.0
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "opbx_api_webhook_phase_seconds_total":
                phases[sample.labels["phase"]] = sample.value
            elif sample.name == "opbx_api_request_duration_seconds_sum" and sample.labels.get("route") == _ROUTE:
                requests += sample.value
            elif sample.name == "opbx_api_relay_sending_seconds_total":
                relay_seconds = sample.value
            elif sample.name == "opbx_api_relay_sent_events_total":
                relay_events = sample.value
    return Scrape(phases, requests, relay_seconds, relay_events)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Milliseconds per webhook in each of :data:`ROWS` (``relay``: per event sent)."""

    ms: dict[str, float]

    @classmethod
    def between(cls, before: Scrape, after: Scrape, webhooks: int) -> Breakdown:
        if webhooks <= 0:
            return cls({})
        phases = {phase: (after.phases[phase] - before.phases[phase]) * 1000 / webhooks for phase in PHASES}
        handled = (after.requests - before.requests) * 1000 / webhooks
        events = after.relay_events - before.relay_events
        relay = (after.relay_seconds - before.relay_seconds) * 1000 / events if events else 0.0
        return cls({"http": max(0.0, handled - sum(phases.values())), **phases, "relay": relay})

    def lines(self) -> list[str]:
        if not self.ms:
            return []
        total = sum(value for row, value in self.ms.items() if row != "relay")
        cells = " ".join(f"{row} {self.ms[row]:.2f}" for row in ROWS)
        return [
            f"  time per webhook    {total:.2f} ms in the API: {cells} ms",
            "                      (relay: per event sent; wall-clock, see docs/benchmarks.md)",
        ]

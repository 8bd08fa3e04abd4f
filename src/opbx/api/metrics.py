"""Prometheus metrics of one API process, served by the API at ``GET /metrics``.

Each :class:`ApiMetrics` has its own registry (several backends in one process, as in the
tests, do not collide). What is exported:

=====================================================  ==========  ===========================================
``opbx_api_request_duration_seconds{method,route,      histogram   time to answer, by the route's template
status}``                                                          (``/api/v1/users/{user_id}``, never the raw
                                                                   path; ``unmatched`` when no route matched)
``opbx_api_webhooks_total{kind,outcome}``              counter     provider webhooks by kind and outcome:
                                                                   applied, duplicate, ignored, or the refusal
                                                                   (unauthorized, forbidden, unknown_number,
                                                                   invalid, too_large), or error
``opbx_api_sign_ins_total{result}``                    counter     sign-ins: succeeded, failed or throttled
``opbx_api_outbox_depth``                              gauge       call events committed, not yet delivered
``opbx_api_outbox_oldest_age_seconds``                 gauge       age of the oldest of them (0 when none)
``opbx_api_outbox_stalled_organizations``              gauge       organizations whose delivery fails now
``opbx_api_relay_attempts_total{target}``              counter     deliveries tried, by realtime URL (or the
                                                                   driver's name: inprocess, recording...)
``opbx_api_relay_failures_total{target}``              counter     of those, the ones that failed
``opbx_api_webhook_phase_seconds_total{phase}``        counter     wall-clock seconds applying webhooks spent
                                                                   in each phase: begin, signature, parsing,
                                                                   statements, commit (:mod:`opbx.telephony.timing`)
``opbx_api_relay_sent_events_total``                   counter     call events the relay has sent
``opbx_api_relay_sending_seconds_total``               counter     seconds of the relay's rounds that sent them
                                                                   (read, send, mark sent)
``opbx_api_db_pool_size``                              gauge       connections the pool keeps
``opbx_api_db_pool_checked_out``                       gauge       connections in use by requests now
``opbx_api_db_pool_checked_in``                        gauge       connections open and idle in the pool
``opbx_api_db_pool_overflow``                          gauge       connections open beyond the pool's size
``process_*``, ``python_*``                            various     prometheus-client's process and GC figures
=====================================================  ==========  ===========================================

The outbox, relay and pool figures are read when scraped: the relay's latest backlog
measure (refreshed every 2 s by the relay that sends; a standby relay reports 0), the
broadcaster's delivery counts and the SQLAlchemy pool's state. Nothing is queried.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.pool import QueuePool

from opbx.telephony.ingest import WebhookKind

if TYPE_CHECKING:
    from opbx.broadcasting.base import Broadcaster
    from opbx.broadcasting.relay import OutboxRelay
    from opbx.db.engine import Database
    from opbx.telephony.timing import PhaseTimes

__all__ = [
    "LATENCY_BUCKETS",
    "SIGN_IN_RESULTS",
    "UNMATCHED_ROUTE",
    "WEBHOOK_KINDS",
    "WEBHOOK_OUTCOMES",
    "ApiMetrics",
]

disable_created_metrics()  # type: ignore[no-untyped-call]  # no ``*_created`` series: scrapers ignore them

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds: a webhook takes milliseconds, a sign-in (scrypt) about a tenth of a second."""
SIGN_IN_RESULTS = ("succeeded", "failed", "throttled")
WEBHOOK_KINDS = tuple(kind.value for kind in WebhookKind)
WEBHOOK_OUTCOMES = (
    "applied",
    "duplicate",
    "ignored",
    "unauthorized",
    "forbidden",
    "unknown_number",
    "invalid",
    "too_large",
    "error",
)
"""What became of a webhook: the three a provider must not retry, each refusal, or an error of ours."""
UNMATCHED_ROUTE = "unmatched"
"""The ``route`` label of a request no route matched."""


class ApiMetrics:
    """One API process's registry and instruments; the backlog, delivery and pool figures are read when scraped."""

    def __init__(
        self,
        database: Database | None = None,
        relay: OutboxRelay | None = None,
        broadcaster: Broadcaster | None = None,
        phases: PhaseTimes | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.registry.register(_BackendCollector(database, relay, broadcaster, phases))
        self._requests = Histogram(
            "opbx_api_request_duration_seconds",
            "Time to answer a request, by method, route template and status",
            ("method", "route", "status"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._webhooks = Counter(
            "opbx_api_webhooks",
            "Provider webhooks received, by kind and outcome",
            ("kind", "outcome"),
            registry=self.registry,
        )
        self._sign_ins = Counter(
            "opbx_api_sign_ins",
            "Sign-ins with email and password, by result",
            ("result",),
            registry=self.registry,
        )
        # Every series exists from the start: an alert on "none for 30 minutes" sees zeros, not nothing.
        for kind in WEBHOOK_KINDS:
            for outcome in WEBHOOK_OUTCOMES:
                self._webhooks.labels(kind, outcome)
        for result in SIGN_IN_RESULTS:
            self._sign_ins.labels(result)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        """One answered request; ``route`` is its template (or :data:`UNMATCHED_ROUTE`)."""
        self._requests.labels(method, route, str(status)).observe(seconds)

    def webhook(self, kind: str, outcome: str) -> None:
        """One provider webhook of ``kind`` (call-initiated...) with one of :data:`WEBHOOK_OUTCOMES`."""
        if outcome not in WEBHOOK_OUTCOMES:
            raise ValueError(f"unknown webhook outcome {outcome!r}")
        self._webhooks.labels(kind, outcome).inc()

    def sign_in(self, result: str) -> None:
        """One sign-in attempt: ``succeeded``, ``failed`` or ``throttled``."""
        if result not in SIGN_IN_RESULTS:
            raise ValueError(f"unknown sign-in result {result!r}; one of {', '.join(SIGN_IN_RESULTS)}")
        self._sign_ins.labels(result).inc()


class _BackendCollector(Collector):
    """The outbox backlog, the relay's deliveries and the database pool, read when scraped."""

    def __init__(
        self,
        database: Database | None,
        relay: OutboxRelay | None,
        broadcaster: Broadcaster | None,
        phases: PhaseTimes | None,
    ) -> None:
        self._database = database
        self._relay = relay
        self._broadcaster = broadcaster
        self._phases = phases

    def collect(self) -> Iterable[Metric]:
        metrics: list[Metric] = []
        if self._relay is not None:
            backlog = self._relay.backlog
            metrics += [
                GaugeMetricFamily(
                    "opbx_api_outbox_depth", "Call events committed and not yet delivered", value=backlog.depth
                ),
                GaugeMetricFamily(
                    "opbx_api_outbox_oldest_age_seconds",
                    "Seconds since the oldest undelivered call event was committed (0 when none waits)",
                    value=backlog.oldest_age or 0.0,
                ),
                GaugeMetricFamily(
                    "opbx_api_outbox_stalled_organizations",
                    "Organizations whose delivery is failing now",
                    value=len(backlog.stalled),
                ),
            ]
            metrics += [
                CounterMetricFamily(
                    "opbx_api_relay_sent_events", "Call events the relay has sent", value=self._relay.sent_events
                ),
                CounterMetricFamily(
                    "opbx_api_relay_outbox_reads",
                    "Relay rounds that read the outbox back (the others sent what committing webhooks handed them)",
                    value=self._relay.outbox_reads,
                ),
                CounterMetricFamily(
                    "opbx_api_relay_sending_seconds",
                    "Seconds of the relay's rounds that sent events (read, send, mark sent)",
                    value=self._relay.sending_seconds,
                ),
            ]
        if self._phases is not None:
            spent = CounterMetricFamily(
                "opbx_api_webhook_phase_seconds",
                "Seconds applying webhooks spent in each phase (begin, signature, parsing, statements, commit)",
                labels=["phase"],
            )
            for phase, seconds in self._phases.seconds.items():
                spent.add_metric([phase], seconds)
            metrics.append(spent)
        if self._broadcaster is not None:
            metrics += _deliveries(self._broadcaster)
        if self._database is not None:
            metrics += _pool(self._database)
        return metrics


def _deliveries(broadcaster: Broadcaster) -> list[Metric]:
    stats = broadcaster.stats
    attempts = CounterMetricFamily(
        "opbx_api_relay_attempts", "Deliveries of call events tried, by target", labels=["target"]
    )
    failures = CounterMetricFamily("opbx_api_relay_failures", "Deliveries that failed, by target", labels=["target"])
    configured: tuple[str, ...] = tuple(getattr(broadcaster, "urls", ()))  # the pusher driver's, known before use
    for target in dict.fromkeys([*configured, *stats.attempts, *stats.failures]):
        attempts.add_metric([target], stats.attempts[target])
        failures.add_metric([target], stats.failures[target])
    return [attempts, failures]


def _pool(database: Database) -> list[Metric]:
    pool = database.engine.pool
    if not isinstance(pool, QueuePool):
        return []
    return [
        GaugeMetricFamily("opbx_api_db_pool_size", "Connections the database pool keeps", value=pool.size()),
        GaugeMetricFamily("opbx_api_db_pool_checked_out", "Database connections in use now", value=pool.checkedout()),
        GaugeMetricFamily(
            "opbx_api_db_pool_checked_in", "Database connections open and idle in the pool", value=pool.checkedin()
        ),
        GaugeMetricFamily(
            "opbx_api_db_pool_overflow",
            "Database connections open beyond the pool's size",
            value=max(0, pool.overflow()),
        ),
    ]

"""Prometheus metrics of one realtime node, served on their own port (9601 by default).

``GET /metrics`` on ``metrics_port`` answers the Prometheus text format (or OpenMetrics,
by the scraper's ``Accept``). Each server has its own registry, so several servers in one
process (the tests) do not collide. What is exported:

=====================================================  ==========  ===========================================
``opbx_connections{app_id}``                           gauge       sockets connected now
``opbx_connections_opened_total{app_id}``              counter     sockets that got connection_established
``opbx_connections_closed_total{app_id}``              counter     of those, the ones closed since
``opbx_websocket_messages_received_total{app_id}``     counter     text messages from clients
``opbx_websocket_bytes_received_total{app_id}``        counter     bytes from clients (frames)
``opbx_websocket_messages_sent_total{app_id}``         counter     messages queued to clients (per recipient)
``opbx_websocket_bytes_sent_total{app_id}``            counter     bytes of those frames
``opbx_http_api_requests_total{app_id,status}``        counter     HTTP API answers (``app_id`` empty when the
                                                                   request named no app it could prove)
``opbx_publish_latency_seconds{app_id}``               histogram   from the HTTP API reading a publish to the
                                                                   write of its frames to this node's sockets
``opbx_webhooks_delivered_total{app_id}``              counter     webhook requests accepted (2xx)
``opbx_webhooks_failed_total{app_id}``                 counter     webhook attempts that failed
``opbx_ready``                                         gauge       1 when ``/ready`` answers 200
``opbx_node_leases_lost_total``                        counter     times the node found its cluster lease gone
``process_*``, ``python_*``                            various     prometheus-client's process and GC figures
=====================================================  ==========  ===========================================

Nothing here runs per message: the WebSocket figures are plain integers the server
adds to as it works (:mod:`opbx.realtime.counters`; a fan-out adds recipients x frame
size once), read when scraped. The latency histogram is observed once per publish per
channel with local recipients, after the coalescer's flush that wrote it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping, Sized
from typing import Protocol

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
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from opbx.protocol.app import App, AppId
from opbx.realtime.counters import AppCounters
from opbx.realtime.http import HttpProtocol, HttpRequest, HttpResponse, error_response
from opbx.realtime.webhook_sink import WebhookSink

__all__ = ["LATENCY_BUCKETS", "MetricsSource", "ServerMetrics"]

log = logging.getLogger("opbx.realtime.metrics")

disable_created_metrics()  # type: ignore[no-untyped-call]  # no ``*_created`` series: scrapers ignore them

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Seconds: publish-to-write is well under a millisecond at rest, tens of them under load."""


class AppTraffic(Protocol):
    """One app's figures on this node (its :class:`~opbx.realtime.namespace.Namespace`)."""

    @property
    def sockets(self) -> Sized:
        """The app's sockets connected now."""

    @property
    def counters(self) -> AppCounters: ...


class Leases(Protocol):
    @property
    def leases_lost(self) -> int: ...


class MetricsSource(Protocol):
    """What the metrics read from their node when scraped (the realtime server is one)."""

    @property
    def ready(self) -> bool: ...

    @property
    def namespaces(self) -> Mapping[AppId, AppTraffic]: ...

    @property
    def webhooks(self) -> WebhookSink: ...

    @property
    def adapter(self) -> Leases: ...


class ServerMetrics:
    """One server's registry, its HTTP API and latency instruments, and the scrape endpoint."""

    def __init__(self, source: MetricsSource) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.registry.register(_ServerCollector(source))
        self._api_requests = Counter(
            "opbx_http_api_requests",
            "HTTP API requests answered, by app and status",
            ("app_id", "status"),
            registry=self.registry,
        )
        self._publish_latency = Histogram(
            "opbx_publish_latency_seconds",
            "From the HTTP API reading a publish to the write of its frames to this node's sockets",
            ("app_id",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._listener: asyncio.Server | None = None
        self._connections: set[HttpProtocol] = set()

    # -- instruments ------------------------------------------------------------------

    def api_request(self, app: App | None, status: int) -> None:
        """Count one HTTP API answer; ``app`` is the one the request authenticated as."""
        self._api_requests.labels(app.id if app is not None else "", str(status)).inc()

    def publish_written(self, app_id: AppId, received: float) -> None:
        """A publish read at ``received`` (``time.perf_counter()``) has just been written."""
        self._publish_latency.labels(app_id).observe(time.perf_counter() - received)

    # -- the scrape endpoint ----------------------------------------------------------

    async def start(self, host: str, port: int) -> None:
        """Serve ``GET /metrics`` on ``host:port`` (0: any free port); log, and go on without, if it is taken."""
        loop = asyncio.get_running_loop()
        try:
            self._listener = await loop.create_server(
                lambda: HttpProtocol(self._handle, _no_upgrade, 0, self._connections),
                host,
                port,
                reuse_address=True,
            )
        except OSError as exc:
            # Metrics are an aside: a taken port must not keep the realtime server down.
            log.error("no metrics endpoint: cannot listen on %s:%d (%s); set metrics_port", host, port, exc)
            return
        log.info("metrics on http://%s:%d/metrics", host, self.port)

    @property
    def port(self) -> int:
        """The metrics port actually bound."""
        assert self._listener is not None, "the metrics endpoint is not listening"
        port: int = self._listener.sockets[0].getsockname()[1]
        return port

    @property
    def listening(self) -> bool:
        return self._listener is not None

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
        for connection in list(self._connections):
            connection.close()

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        if request.path != "/metrics":
            return error_response(404, "Metrics are at /metrics")
        if request.method not in ("GET", "HEAD"):
            return error_response(405, "Use GET for /metrics")
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return HttpResponse(200, encoder(self.registry), content_type)


def _no_upgrade(transport: asyncio.Transport, request: HttpRequest, rest: bytes) -> None:
    transport.write(error_response(404, "No WebSocket endpoint on the metrics port").encode(keep_alive=False))
    transport.close()


class _ServerCollector(Collector):
    """Reads the node's plain counters into samples when scraped."""

    def __init__(self, source: MetricsSource) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        source = self._source
        labels = ["app_id"]
        connected = GaugeMetricFamily("opbx_connections", "Sockets connected now", labels=labels)
        opened = CounterMetricFamily(
            "opbx_connections_opened", "Sockets that got pusher:connection_established", labels=labels
        )
        closed = CounterMetricFamily("opbx_connections_closed", "Established sockets closed since", labels=labels)
        messages_in = CounterMetricFamily(
            "opbx_websocket_messages_received", "Text messages received from clients", labels=labels
        )
        bytes_in = CounterMetricFamily(
            "opbx_websocket_bytes_received", "Bytes received from clients (WebSocket frames)", labels=labels
        )
        messages_out = CounterMetricFamily(
            "opbx_websocket_messages_sent", "Messages queued to clients, one per recipient", labels=labels
        )
        bytes_out = CounterMetricFamily(
            "opbx_websocket_bytes_sent", "Bytes of the WebSocket frames queued to clients", labels=labels
        )
        delivered = CounterMetricFamily("opbx_webhooks_delivered", "Webhook requests accepted (2xx)", labels=labels)
        failed = CounterMetricFamily("opbx_webhooks_failed", "Webhook attempts that failed", labels=labels)
        webhooks = source.webhooks.counters
        for app_id, namespace in source.namespaces.items():
            counters = namespace.counters
            value = [app_id]
            connected.add_metric(value, len(namespace.sockets))
            opened.add_metric(value, counters.connections_opened)
            closed.add_metric(value, counters.connections_closed)
            messages_in.add_metric(value, counters.messages_in)
            bytes_in.add_metric(value, counters.bytes_in)
            messages_out.add_metric(value, counters.messages_out)
            bytes_out.add_metric(value, counters.bytes_out)
            hooks = webhooks.get(app_id)
            delivered.add_metric(value, hooks.delivered if hooks is not None else 0)
            failed.add_metric(value, hooks.failed if hooks is not None else 0)
        ready = GaugeMetricFamily("opbx_ready", "1 when /ready answers 200", value=1 if source.ready else 0)
        leases = CounterMetricFamily(
            "opbx_node_leases_lost",
            "Times this node found its cluster lease gone while alive and wrote its state again",
            value=source.adapter.leases_lost,
        )
        return [
            connected,
            opened,
            closed,
            messages_in,
            bytes_in,
            messages_out,
            bytes_out,
            delivered,
            failed,
            ready,
            leases,
        ]

"""Plain counters the server keeps as it works; the metrics endpoint reads them when scraped.

Counting is an integer addition on objects the hot path already holds (an app's
:class:`~opbx.realtime.namespace.Namespace`, a connection), so nothing of
prometheus-client runs per message: :mod:`opbx.realtime.metrics` turns these into
Prometheus samples only when ``/metrics`` is read.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AppCounters", "WebhookCounters"]


@dataclass(slots=True)
class AppCounters:
    """One app's WebSocket traffic on this node, since the process started."""

    connections_opened: int = 0
    """Sockets that got ``pusher:connection_established``."""
    connections_closed: int = 0
    """Of those, the ones that have closed since."""
    messages_in: int = 0
    """Text messages received from clients."""
    bytes_in: int = 0
    """Bytes received on established sockets (WebSocket frames, headers included)."""
    messages_out: int = 0
    """Pusher messages queued for clients: one per recipient of a fan-out."""
    bytes_out: int = 0
    """Bytes of those messages' WebSocket frames."""


@dataclass(slots=True)
class WebhookCounters:
    """One app's webhook requests; the webhook sender owns and updates these.

    Every sink exposes them as ``counters`` (:class:`opbx.realtime.webhook_sink.WebhookSink`);
    the metrics endpoint reports them.
    """

    delivered: int = 0
    """Requests the app's endpoint accepted (a 2xx answer)."""
    failed: int = 0
    """Attempts that failed (connection error, timeout, or an answer other than 2xx)."""

"""What the API's handlers share: the database, the call service, broadcasting, the realtime app, the metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from starlette.requests import Request

from opbx.accounts.throttle import SignInThrottle
from opbx.api.metrics import ApiMetrics
from opbx.broadcasting.base import Broadcaster
from opbx.broadcasting.relay import OutboxRelay
from opbx.clock import Clock
from opbx.db.engine import Database
from opbx.protocol.app import App
from opbx.telephony.service import CallService

__all__ = ["ApiContext", "RealtimeEndpoint", "context_of"]


@dataclass(frozen=True, slots=True)
class RealtimeEndpoint:
    """Where browsers reach the realtime server (what the dashboard's pusher-js needs)."""

    host: str | None
    """None: the same host name the browser used for the API."""
    port: int
    tls: bool = False


@dataclass(frozen=True, slots=True)
class ApiContext:
    database: Database
    service: CallService
    broadcaster: Broadcaster
    app: App
    """The realtime app whose secret signs channel authorizations."""
    realtime: RealtimeEndpoint
    clock: Clock
    relay: OutboxRelay
    """The outbox relay: its backlog shows in the health detail and the metrics."""
    throttle: SignInThrottle
    """Slows repeated failed sign-ins per account and per address (shared through the database)."""
    redis_url: str | None = None
    metrics: ApiMetrics = field(default_factory=ApiMetrics)
    """This process's Prometheus instruments (``GET /metrics``): handlers count webhooks and sign-ins on it."""

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.time(), UTC)


def context_of(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context

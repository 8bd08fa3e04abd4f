"""Routes of the Pusher HTTP API, served on the WebSocket port.

Spec: https://pusher.com/docs/channels/library_auth_reference/rest-api

Each request is authenticated (:func:`opbx.protocol.rest.authenticate`) before its
body is read as JSON, and each refusal has the spec's status and a JSON error body:
hosted Pusher's statuses, not Soketi's blanket 200. The router sees its server only as an
:class:`ApiBackend`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Protocol

from opbx.adapters.base import AdapterUnavailable, Bus, ChannelCounts, ChannelState, Presence
from opbx.clock import Clock
from opbx.protocol.app import App
from opbx.protocol.channels import ChannelName, InvalidChannelName, channel_type, check_channel_name
from opbx.protocol.presence import UserId
from opbx.protocol.rest import ApiError, Trigger, authenticate, parse_batch, parse_events_body, parse_info
from opbx.realtime.apps import AppRegistry
from opbx.realtime.config import ServerConfig
from opbx.realtime.health import memory_use
from opbx.realtime.http import HttpRequest, HttpResponse, error_response, json_response
from opbx.realtime.webhook_sink import WebhookSink

__all__ = ["ApiBackend", "HttpApi"]

log = logging.getLogger("opbx.realtime.api")

_CHANNEL_INFO = frozenset(("user_count", "subscription_count"))
_HEALTH_PATHS = frozenset(("/", "/ready", "/accept-traffic"))

Route = Callable[[App, HttpRequest, list[str]], Awaitable[HttpResponse]]


class ClusterQueries(Bus, ChannelState, Presence, Protocol):
    """The adapter as the API uses it: channel counts, rosters, and terminating a user's sockets."""


class CountsRequests(Protocol):
    def api_request(self, app: App | None, status: int) -> None:
        """Count one answer; ``app`` is the one the request authenticated as."""


class ApiBackend(Protocol):
    """What the HTTP API reads and asks of its server (the realtime server is one)."""

    @property
    def config(self) -> ServerConfig: ...

    @property
    def apps(self) -> AppRegistry: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def adapter(self) -> ClusterQueries: ...

    @property
    def webhooks(self) -> WebhookSink: ...

    @property
    def metrics(self) -> CountsRequests: ...

    @property
    def ready(self) -> bool: ...

    @property
    def shutting_down(self) -> bool: ...

    async def trigger(self, app: App, trigger: Trigger, received: float | None = None) -> None:
        """Publish an event to its channels across the cluster."""


class HttpApi:
    """Dispatches HTTP requests to the Pusher API's handlers."""

    def __init__(self, server: ApiBackend) -> None:
        self._server = server
        self._routes: list[tuple[str, re.Pattern[str], Route]] = [
            ("POST", re.compile(r"/apps/([^/]+)/events"), self._events),
            ("POST", re.compile(r"/apps/([^/]+)/batch_events"), self._batch_events),
            ("GET", re.compile(r"/apps/([^/]+)/channels"), self._channels),
            ("GET", re.compile(r"/apps/([^/]+)/channels/([^/]+)"), self._channel),
            ("GET", re.compile(r"/apps/([^/]+)/channels/([^/]+)/users"), self._users),
            ("POST", re.compile(r"/apps/([^/]+)/users/([^/]+)/terminate_connections"), self._terminate),
            # The `pusher` Python SDK (3.3.4) leaves out the /apps/{id} prefix here; its
            # app is then the one whose key signed the request.
            ("POST", re.compile(r"()/users/([^/]+)/terminate_connections"), self._terminate),
            # Ours, not Pusher's: the webhook requests this cluster gave up on.
            ("GET", re.compile(r"/apps/([^/]+)/webhooks/dead_letters"), self._dead_letters),
        ]

    async def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer health checks (not counted), or route an API call and count its answer."""
        if request.path in _HEALTH_PATHS:
            return self._health(request.path)
        metrics = self._server.metrics
        try:
            app, response = await self._dispatch(request)
        except Exception:
            metrics.api_request(None, 500)
            raise
        metrics.api_request(app, response.status)
        return response

    async def _dispatch(self, request: HttpRequest) -> tuple[App | None, HttpResponse]:
        """The answer, and the app the request proved it is from (None if it did not)."""
        for method, pattern, route in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            if request.method != method and not (request.method == "HEAD" and method == "GET"):
                return None, error_response(405, f"Use {method} for {request.path}")
            app: App | None = None
            try:
                app = self._authenticated_app(match.group(1), request)
                return app, await route(app, request, list(match.groups()[1:]))
            except ApiError as exc:
                log.info("HTTP API %s %s refused: %d %s", request.method, request.path, exc.status, exc.message)
                return app, error_response(exc.status, exc.message)
            except AdapterUnavailable as exc:
                log.warning("HTTP API %s %s: %s", request.method, request.path, exc)
                return app, error_response(503, "The cluster's shared state is unreachable; try again")
        return None, error_response(404, f"No such endpoint: {request.path}")

    # -- health (docs/configuration.md, "Health checks") ---------------------------------

    def _health(self, path: str) -> HttpResponse:
        server = self._server
        if path == "/":
            return json_response(200, {"ok": True})  # alive: this process answers HTTP
        if path == "/ready":
            ready = server.ready
            return json_response(200 if ready else 503, {"ready": ready})
        threshold = server.config.accept_traffic_memory_threshold
        try:
            percent: float | None = round(memory_use().percent, 1)
        except (OSError, ValueError) as exc:  # no /proc (not Linux): memory cannot be judged
            log.warning("cannot read memory use for /accept-traffic: %s", exc)
            percent = None
        accept = not server.shutting_down and (percent is None or percent < threshold)
        body = {"accept_traffic": accept, "memory_percent": percent, "threshold_percent": threshold}
        return json_response(200 if accept else 503, body)

    def _authenticated_app(self, app_id: str, request: HttpRequest) -> App:
        apps = self._server.apps
        app = apps.by_id(app_id) if app_id else apps.by_key(request.query.get("auth_key", ""))
        if app is None:
            raise ApiError(404, f"Unknown app id {app_id!r}" if app_id else "Unknown auth_key")
        now = self._server.clock.time()
        try:
            authenticate(app, request.method, request.raw_path, request.query, request.body, now)
        except ApiError:
            if request.raw_path == request.path:
                raise
            # Some clients sign the decoded path; accept either spelling.
            authenticate(app, request.method, request.path, request.query, request.body, now)
        return app

    # -- publishing -------------------------------------------------------------

    async def _events(self, app: App, request: HttpRequest, _: list[str]) -> HttpResponse:
        trigger = parse_events_body(request.body, app.limits)
        await self._server.trigger(app, trigger, request.received)
        if not trigger.info:
            return json_response(200, {})
        channels = {channel: await self._info(app, channel, trigger.info) for channel in trigger.channels}
        return json_response(200, {"channels": channels})

    async def _batch_events(self, app: App, request: HttpRequest, _: list[str]) -> HttpResponse:
        triggers = parse_batch(request.body, app.limits)
        for trigger in triggers:
            await self._server.trigger(app, trigger, request.received)
        if not any(trigger.info for trigger in triggers):
            return json_response(200, {})
        return json_response(200, {"batch": [await self._trigger_info(app, trigger) for trigger in triggers]})

    async def _trigger_info(self, app: App, trigger: Trigger) -> dict[str, int]:
        return await self._info(app, trigger.channels[0], trigger.info) if trigger.info else {}

    async def _info(self, app: App, channel: ChannelName, attributes: frozenset[str]) -> dict[str, int]:
        counts = await self._server.adapter.channel(app.id, channel)
        return _attributes(counts, attributes)

    # -- reading state ------------------------------------------------------------

    async def _channels(self, app: App, request: HttpRequest, _: list[str]) -> HttpResponse:
        prefix = request.query.get("filter_by_prefix", "")
        attributes = parse_info(request.query.get("info"), _CHANNEL_INFO)
        if "user_count" in attributes and not prefix.startswith("presence-"):
            raise ApiError(400, "info=user_count requires filter_by_prefix=presence-")
        occupied = await self._server.adapter.channels(app.id)
        return json_response(
            200,
            {
                "channels": {
                    name: _attributes(counts, attributes)
                    for name, counts in sorted(occupied.items())
                    if name.startswith(prefix)
                }
            },
        )

    async def _channel(self, app: App, request: HttpRequest, groups: list[str]) -> HttpResponse:
        channel = _channel_name(app, groups[0])
        attributes = parse_info(request.query.get("info"), _CHANNEL_INFO)
        if "user_count" in attributes and not channel_type(channel).is_presence:
            raise ApiError(400, "info=user_count is only available for presence channels")
        counts = await self._server.adapter.channel(app.id, channel)
        body: dict[str, object] = {"occupied": counts.subscription_count > 0}
        body.update(_attributes(counts, attributes))
        return json_response(200, body)

    async def _users(self, app: App, request: HttpRequest, groups: list[str]) -> HttpResponse:
        channel = _channel_name(app, groups[0])
        if not channel_type(channel).is_presence:
            raise ApiError(400, "Users can only be listed for presence channels")
        members = await self._server.adapter.members(app.id, channel)
        return json_response(200, {"users": [{"id": user_id} for user_id in members]})

    async def _terminate(self, app: App, request: HttpRequest, groups: list[str]) -> HttpResponse:
        user_id = groups[0]
        if not user_id or len(user_id) > app.limits.max_user_id_length:
            raise ApiError(400, "Invalid user id")
        await self._server.adapter.terminate_user(app.id, UserId(user_id))
        return json_response(200, {})

    async def _dead_letters(self, app: App, request: HttpRequest, _: list[str]) -> HttpResponse:
        """The app's webhook requests given up on, newest first (``?limit=``, 100 by default)."""
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            raise ApiError(400, "limit must be a whole number") from None
        if not 1 <= limit <= 1000:
            raise ApiError(400, "limit must be between 1 and 1000")
        dead = await self._server.webhooks.dead_letters(app.id, limit)
        letters = [
            {
                "id": letter.delivery.id,
                "url": letter.delivery.url,
                "reason": letter.reason,
                "at_ms": int(letter.at * 1000),
                "attempts": letter.delivery.attempts,
                "last_error": letter.delivery.last_error,
                "body": letter.delivery.body.decode(),
            }
            for letter in dead
        ]
        return json_response(200, {"dead_letters": letters})


def _channel_name(app: App, name: str) -> ChannelName:
    try:
        return check_channel_name(name, app.limits.max_channel_name_length)
    except InvalidChannelName as exc:
        raise ApiError(400, f"Invalid channel: {exc}") from None


def _attributes(counts: ChannelCounts, attributes: frozenset[str]) -> dict[str, int]:
    result: dict[str, int] = {}
    if "subscription_count" in attributes:
        result["subscription_count"] = counts.subscription_count
    if "user_count" in attributes and counts.user_count is not None:
        result["user_count"] = counts.user_count
    return result

"""What a starting process prints: where to connect, and what it runs on.

Written in one write each, so the lines of ``--workers`` processes do not interleave.
Passwords in URLs are masked; app secrets are never printed.
"""

from __future__ import annotations

from opbx.api.settings import BackendSettings
from opbx.configuration import DEFAULT_APP, mask_url
from opbx.realtime.config import ServerConfig

__all__ = ["backend_lines", "display_host", "realtime_lines"]


def display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - display only


def realtime_lines(config: ServerConfig, port: int, metrics_port: int | None, node_id: str | None) -> list[str]:
    """How to connect to the realtime server, and the adapter it shares state through."""
    host = display_host(config.host)
    tls = config.ssl_cert is not None
    ws, http = ("wss", "https") if tls else ("ws", "http")
    lines = [f"OpBX realtime server (Pusher protocol 7) on {ws}://{host}:{port} and {http}://{host}:{port}"]
    for app in config.apps:
        state = "" if app.enabled else " (disabled)"
        lines.append(f"  app id={app.id} key={app.key}{state}")
        ports = f"wssPort: {port}, forceTLS: true" if tls else f"wsPort: {port}, forceTLS: false"
        lines.append(f"    pusher-js: new Pusher('{app.key}', {{wsHost: '{host}', {ports},")
        lines.append(f"               enabledTransports: ['{ws}'], cluster: ''}})")
        lines.append(f"    pusher (Python): pusher.Pusher(app_id='{app.id}', key='{app.key}', secret=..., ")
        lines.append(f"               host='{host}', port={port}, ssl={tls})")
    if config.adapter == "redis":
        lines.append(
            f"  adapter: redis at {mask_url(config.redis_url)}, prefix {config.redis_prefix!r}, node id {node_id}"
        )
    else:
        lines.append("  adapter: local (this process only)")
    if metrics_port is not None:
        metrics_host = display_host(config.metrics_host or config.host)
        lines.append(f"  metrics: http://{metrics_host}:{metrics_port}/metrics")
    if DEFAULT_APP in config.apps:
        lines.append("  (development credentials: set OPBX_APP_ID/KEY/SECRET or a config file)")
    return lines


def backend_lines(settings: BackendSettings, api_port: int) -> list[str]:
    """Where the API listens, its database and where its call events go."""
    base = f"http://{display_host(settings.api_host)}:{api_port}"
    if settings.broadcast_driver == "pusher":
        target = "the realtime server at " + " then ".join(settings.pusher_urls)
    elif settings.broadcast_driver == "inprocess":
        target = "the realtime server in this process"
    else:
        target = "nowhere (events are only logged)" if settings.broadcast_driver == "log" else "nowhere"
    return [
        f"OpBX API on {base}/api/v1 (reference: {base}/api/docs)",
        f"  database: {mask_url(settings.database_url)}",
        f"  broadcasting: {settings.broadcast_driver} driver to {target}, app {settings.app.id}",
    ]

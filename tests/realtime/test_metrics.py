"""The Prometheus endpoint of a node, scraped over HTTP as Prometheus does."""

from __future__ import annotations

import dataclasses
import json
import socket
from pathlib import Path

import pytest

from opbx.adapters.redis import RedisAdapter
from opbx.configuration import ConfigError
from opbx.protocol.app import WebhookTarget
from opbx.realtime.config import ServerConfig, load_config
from opbx.realtime.server import RealtimeServer
from opbx.realtime.webhooks import WebhookSender
from opbx.redis_client import open_redis
from tests.conftest import ServerFactory
from tests.helpers.apps import QUIET_APP, TEST_APP
from tests.helpers.http_api import api_request
from tests.helpers.plain_http import get
from tests.helpers.pusher_client import PusherClient
from tests.helpers.scrape import Samples, scrape, scrape_until, value
from tests.helpers.webhook_receiver import WebhookReceiver

APP = TEST_APP.id


async def publish(server: RealtimeServer, channel: str, data: object, socket_id: str | None = None) -> int:
    body: dict[str, object] = {"name": "news", "channel": channel, "data": json.dumps(data)}
    if socket_id is not None:
        body["socket_id"] = socket_id
    status, _ = await api_request(
        server.port,
        "POST",
        f"/apps/{APP}/events",
        key=TEST_APP.key,
        secret=TEST_APP.secret,
        body=json.dumps(body).encode(),
    )
    return status


def port_of(server: RealtimeServer) -> int:
    port = server.metrics_port
    assert port is not None
    return port


async def test_connections_are_counted_opened_current_and_closed(server: RealtimeServer) -> None:
    first = await PusherClient.connect(server.port, TEST_APP.key)
    await PusherClient.connect(server.port, TEST_APP.key)
    samples = await scrape(port_of(server))
    assert value(samples, "opbx_connections", app_id=APP) == 2
    assert value(samples, "opbx_connections_opened_total", app_id=APP) == 2
    assert value(samples, "opbx_connections_closed_total", app_id=APP) == 0
    assert value(samples, "opbx_connections", app_id=QUIET_APP.id) == 0  # every app has its series
    await first.close()
    samples = await scrape_until(port_of(server), lambda s: value(s, "opbx_connections_closed_total", app_id=APP) == 1)
    assert value(samples, "opbx_connections", app_id=APP) == 1
    assert value(samples, "opbx_connections_opened_total", app_id=APP) == 2


async def test_a_publish_counts_one_message_per_recipient_and_its_latency(server: RealtimeServer) -> None:
    clients = [await PusherClient.connect(server.port, TEST_APP.key) for _ in range(3)]
    for client in clients:
        await client.subscribe("news")
    before = await scrape(port_of(server))
    assert await publish(server, "news", {"n": 1}) == 200
    frames = [await client.expect("news") for client in clients]
    after = await scrape(port_of(server))

    def grew(name: str) -> float:
        return value(after, name, app_id=APP) - value(before, name, app_id=APP)

    assert grew("opbx_websocket_messages_sent_total") == 3
    wire = json.dumps(frames[0], separators=(",", ":")).encode()
    assert grew("opbx_websocket_bytes_sent_total") == 3 * (len(wire) + 2)  # + the 2-byte frame header
    assert grew("opbx_publish_latency_seconds_count") == 1
    assert 0 < grew("opbx_publish_latency_seconds_sum") < 60
    assert value(after, "opbx_http_api_requests_total", app_id=APP, status="200") == 1


async def test_the_excluded_socket_is_not_counted(server: RealtimeServer) -> None:
    sender, other = [await PusherClient.connect(server.port, TEST_APP.key) for _ in range(2)]
    for client in (sender, other):
        await client.subscribe("news")
    before = await scrape(port_of(server))
    assert await publish(server, "news", {"n": 2}, socket_id=sender.socket_id) == 200
    await other.expect("news")
    after = await scrape(port_of(server))
    sent = "opbx_websocket_messages_sent_total"
    assert value(after, sent, app_id=APP) - value(before, sent, app_id=APP) == 1


async def test_a_publish_nobody_here_receives_has_no_latency_sample(server: RealtimeServer) -> None:
    assert await publish(server, "empty-channel", {"n": 3}) == 200
    samples = await scrape(port_of(server))
    assert value(samples, "opbx_publish_latency_seconds_count", app_id=APP) == 0
    assert value(samples, "opbx_http_api_requests_total", app_id=APP, status="200") == 1


async def test_messages_from_clients_are_counted(server: RealtimeServer) -> None:
    client = await PusherClient.connect(server.port, TEST_APP.key)
    await client.send("pusher:ping")
    await client.expect("pusher:pong")
    samples = await scrape(port_of(server))
    assert value(samples, "opbx_websocket_messages_received_total", app_id=APP) == 1
    assert value(samples, "opbx_websocket_bytes_received_total", app_id=APP) >= len('{"event": "pusher:ping"}')


async def test_api_answers_are_counted_by_status_and_proven_app(server: RealtimeServer) -> None:
    status, _ = await api_request(server.port, "GET", f"/apps/{APP}/channels", key=TEST_APP.key, secret="wrong")
    assert status == 401
    status, _ = await api_request(server.port, "GET", "/apps/999/channels", key=TEST_APP.key, secret=TEST_APP.secret)
    assert status == 404
    status, _ = await api_request(server.port, "GET", f"/apps/{APP}/channels", key=TEST_APP.key, secret=TEST_APP.secret)
    assert status == 200
    for path in ("/", "/ready", "/accept-traffic"):
        assert (await get(server.port, path))[0] == 200
    samples = await scrape(port_of(server))
    api = "opbx_http_api_requests_total"
    assert value(samples, api, app_id=APP, status="200") == 1
    # A request that fails to authenticate is not attributed to the app it names.
    assert value(samples, api, app_id="", status="401") == 1
    assert value(samples, api, app_id="", status="404") == 1
    assert sum(v for (name, _), v in samples.items() if name == api) == 3  # health checks are not counted


async def test_webhook_deliveries_and_failures_are_counted(make_server: ServerFactory) -> None:
    receiver = await WebhookReceiver(answer=lambda number: 500 if number == 0 else 200).start()
    try:
        app = dataclasses.replace(TEST_APP, webhooks=(WebhookTarget(receiver.url),))
        server = await make_server(apps=(app, QUIET_APP))
        assert isinstance(server.webhooks, WebhookSender)  # the app has a target: a real sender
        client = await PusherClient.connect(server.port, app.key)
        await client.subscribe("news")  # channel_occupied: refused once (500), then accepted
        await receiver.wait_for(lambda r: len(r.accepted()) == 1)
        samples = await scrape_until(
            port_of(server), lambda s: value(s, "opbx_webhooks_delivered_total", app_id=app.id) == 1
        )
        assert value(samples, "opbx_webhooks_failed_total", app_id=app.id) == 1
        assert value(samples, "opbx_webhooks_failed_total", app_id=QUIET_APP.id) == 0  # it has no webhooks
        await client.close()
    finally:
        await receiver.stop()


async def test_readiness_and_process_figures_are_exported(server: RealtimeServer) -> None:
    samples: Samples = await scrape(port_of(server))
    assert value(samples, "opbx_ready") == 1
    assert value(samples, "process_resident_memory_bytes") > 0


async def test_only_metrics_is_served_on_the_metrics_port(server: RealtimeServer) -> None:
    assert (await get(port_of(server), "/ready"))[0] == 404
    assert (await get(server.port, "/metrics"))[0] == 404  # and metrics are not on the public port


async def test_metrics_can_be_switched_off(make_server: ServerFactory) -> None:
    server = await make_server(metrics_port=None)
    assert server.metrics_port is None


async def test_a_taken_metrics_port_does_not_stop_the_server(make_server: ServerFactory) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = await make_server(metrics_port=taken.getsockname()[1])
        assert server.metrics_port is None
        await PusherClient.connect(server.port, TEST_APP.key)


def test_metrics_port_settings(tmp_path: Path) -> None:
    assert load_config(None, {}).metrics_port == ServerConfig().metrics_port == 9601
    assert load_config(None, {}, metrics_port=9700).metrics_port == 9700
    config = tmp_path / "opbx.toml"
    config.write_text("[server]\nmetrics_port = false\n")
    assert load_config(config, {}).metrics_port is None
    config.write_text('[server]\nmetrics_port = 0\nmetrics_host = "127.0.0.2"\n')
    assert (load_config(config, {}).metrics_port, load_config(config, {}).metrics_host) == (0, "127.0.0.2")
    for bad in ("70000", "true", '"9601"'):
        config.write_text(f"[server]\nmetrics_port = {bad}\n")
        with pytest.raises(ConfigError, match=r"server\.metrics_port"):
            load_config(config, {})


async def test_a_lost_cluster_lease_is_counted(make_server: ServerFactory, redis_url: str, redis_prefix: str) -> None:
    """Redis forgetting a live node (a restart, a failover) shows as opbx_node_leases_lost_total."""
    adapter = RedisAdapter(redis_url, prefix=redis_prefix, node_timeout=0.6)  # a heartbeat every 0.2 s
    server = await make_server(adapter=adapter)
    assert server.metrics_port is not None
    assert value(await scrape(server.metrics_port), "opbx_node_leases_lost_total") == 0
    redis = open_redis(redis_url)
    try:
        assert await redis.zrem(f"{redis_prefix}:nodes", adapter.node_id) == 1  # the lease is gone
    finally:
        await redis.aclose()
    samples = await scrape_until(server.metrics_port, lambda s: value(s, "opbx_node_leases_lost_total") >= 1)
    assert value(samples, "opbx_node_leases_lost_total") == 1

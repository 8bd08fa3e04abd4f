"""deploy/'s monitoring cannot rot: the Grafana dashboard and the Prometheus alert rules parse
(``promtool``), the alerts fire when they should (``promtool test rules``), every metric they
name is exported by a real running API or realtime server, and nginx keeps /metrics inside."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from opbx.api.settings import BackendSettings
from opbx.broadcasting.pusher import PusherBroadcaster
from opbx.db.engine import Database
from opbx.realtime.server import RealtimeServer
from opbx.system import HttpServer, start_backend
from opbx.telephony.ingest import sign_body
from tests.conftest import ServerFactory
from tests.helpers.apps import TEST_APP
from tests.helpers.http_api import api_request
from tests.helpers.pusher_client import PusherClient
from tests.helpers.scrape import Samples, scrape_until, value
from tests.helpers.world import build_world

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana-dashboard.json"
ALERTS = ROOT / "deploy" / "prometheus-alerts.yml"
ALERT_TESTS = Path(__file__).with_name("prometheus-alerts.test.yml")
NGINX = ROOT / "deploy" / "nginx.conf"

PROMETHEUS_OWN = {"up"}
"""Series Prometheus makes itself for every target: rules may use them, no process exports them."""
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: apt-get install prometheus (make pytest does)")
    return found


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (not its functions, keywords or label names)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match[0] in KEYWORDS:
            continue  # a function or an aggregation, or a keyword
        names.add(match[0])
    return names


def test_metric_names_are_read_out_of_promql() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(opbx_api_request_duration_seconds_bucket{status=~"5.."}'
        "[5m]))) / on () group_left sum(up) > bool 1e3 and on () hour() >= 8 or vector(0) unless absent(opbx_ready)"
    )
    assert metric_names(expr) == {"opbx_api_request_duration_seconds_bucket", "up", "opbx_ready"}


def dashboard() -> dict[str, Any]:
    loaded = json.loads(DASHBOARD.read_text())
    assert isinstance(loaded, dict)
    return loaded


def panels(model: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in model["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row keeps its panels inside


def dashboard_queries() -> list[str]:
    return [target["expr"] for panel in panels(dashboard()) for target in panel.get("targets", [])]


def alert_queries() -> list[tuple[str, str]]:
    return re.findall(r"^\s+expr: >-\n((?:\s{10}.*\n)+)|^\s+expr: (.+)$", ALERTS.read_text(), flags=re.MULTILINE)


def rule_expressions() -> list[str]:
    """Each rule's expression, folded as YAML folds ``>-`` (promtool has parsed the file: this only reads it)."""
    found = []
    for folded, plain in alert_queries():
        found.append(" ".join(line.strip() for line in folded.splitlines()) if folded else plain.strip())
    return found


def test_the_dashboard_is_a_grafana_dashboard() -> None:
    model = dashboard()
    assert model["title"] == "OpBX"
    assert model["uid"] == "opbx-overview"
    assert [variable["name"] for variable in model["templating"]["list"]] == ["datasource"]
    ids = [panel["id"] for panel in panels(model)]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    graphs = [panel for panel in panels(model) if panel["type"] != "row"]
    assert len(graphs) >= 15
    for panel in graphs:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def test_the_dashboard_queries_parse(tmp_path: Path) -> None:
    """Every query, as a recording rule, through promtool's PromQL parser."""
    rules = []
    for number, expr in enumerate(dashboard_queries()):
        for variable, replacement in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, replacement)
        assert "$" not in expr, f"a Grafana variable this test does not know: {expr}"
        rules.append({"record": f"opbx:dashboard_query_{number}", "expr": expr})
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))  # JSON is YAML
    result = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alert_rules_pass_promtool_check() -> None:
    result = subprocess.run([promtool(), "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    alerts = re.findall(r"^\s+- alert: (\w+)$", ALERTS.read_text(), flags=re.MULTILINE)
    assert f"SUCCESS: {len(alerts)} rules found" in result.stdout
    assert {
        "OpbxOutboxStalled",
        "OpbxRelayFailing",
        "OpbxNoWebhooksDuringBusinessHours",
        "OpbxRealtimeNodeLeaseLost",
    } <= set(alerts)


def test_the_alerts_fire_when_they_should() -> None:
    """promtool's unit tests: each alert fires on a made-up history, and stays quiet on another."""
    result = subprocess.run(
        [promtool(), "test", "rules", ALERT_TESTS.name],
        cwd=ALERT_TESTS.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", ALERT_TESTS.read_text()))
    alerts = set(re.findall(r"^\s+- alert: (\w+)$", ALERTS.read_text(), flags=re.MULTILINE))
    assert tested == alerts, "every alert has a test"


def test_nginx_keeps_the_api_metrics_inside() -> None:
    text = NGINX.read_text()
    public = text[text.index("listen 443 ssl;") :]
    block = re.search(r"location = /metrics \{([^}]*)\}", public)
    assert block is not None, "the TLS server has no `location = /metrics` block"
    assert block[1].split() == ["deny", "all;"]
    assert "proxy_set_header X-Request-Id $request_id;" in public


@pytest.fixture
async def exported(make_server: ServerFactory, tmp_path: Path) -> AsyncIterator[Samples]:
    """What a real API and a real realtime server export, after some work: the API publishing to
    the realtime server over its HTTP API, a webhook, requests, a subscriber and a publish."""
    realtime: RealtimeServer = await make_server()
    database = Database(f"sqlite:///{tmp_path}/opbx.sqlite3")
    await database.migrate()
    world = await build_world(database)
    target = f"http://127.0.0.1:{realtime.port}"
    settings = BackendSettings(broadcast_driver="pusher", pusher_urls=(target,), app=TEST_APP)
    broadcaster = PusherBroadcaster(target, TEST_APP.id, TEST_APP.key, TEST_APP.secret)
    backend = await start_backend(settings, broadcaster=broadcaster, database=database)
    http = HttpServer(backend.api, "127.0.0.1", 0)
    await http.start()
    try:
        subscriber = await PusherClient.connect(realtime.port, TEST_APP.key)
        await subscriber.subscribe("orders")
        body = b'{"name": "news", "channel": "orders", "data": "{}"}'
        status, _ = await api_request(
            realtime.port, "POST", f"/apps/{TEST_APP.id}/events", key=TEST_APP.key, secret=TEST_APP.secret, body=body
        )
        assert status == 200
        await subscriber.expect("news")
        await subscriber.close()
        acme = world.acme
        call = json.dumps({"call_id": "d1", "to": acme.did_numbers[0]}).encode()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http.port}") as client:
            answer = await client.post(
                "/webhooks/cloudonix/call-initiated",
                content=call,
                headers={"X-Cloudonix-Signature": sign_body(acme.secret, call)},
            )
            assert answer.status_code == 200
        api = await scrape_until(http.port, lambda s: value(s, "opbx_api_relay_attempts_total", target=target) >= 1)
        metrics_port = realtime.metrics_port
        assert metrics_port is not None
        nodes = await scrape_until(
            metrics_port, lambda s: any(name.startswith("opbx_publish_latency") for name, _ in s)
        )
        yield {**api, **nodes}
    finally:
        await http.stop()
        await backend.stop()


async def test_every_metric_the_dashboard_and_the_alerts_name_is_exported(exported: Samples) -> None:
    names = {name for name, _ in exported}
    assert {"opbx_api_webhooks_total", "opbx_connections", "process_resident_memory_bytes"} <= names
    for expr in dashboard_queries():
        used = metric_names(expr)
        assert used, f"a query that reads no metric: {expr}"
        assert used <= names, f"{sorted(used - names)} are not exported (query {expr})"
    expressions = rule_expressions()
    assert len(expressions) == len(re.findall(r"- alert: ", ALERTS.read_text()))
    for expr in expressions:
        used = metric_names(expr)
        assert used, f"a rule that reads no metric: {expr}"
        assert used <= names | PROMETHEUS_OWN, f"{sorted(used - names - PROMETHEUS_OWN)} are not exported ({expr})"

"""The table and the JSON document."""

from __future__ import annotations

from pathlib import Path

import orjson

from opbx.bench.connections import ConnectionsParams, ConnectionsResult
from opbx.bench.report import Report, machine


def _result(established: int) -> ConnectionsResult:
    return ConnectionsResult(
        params=ConnectionsParams(connections=10),
        established=established,
        open_s=0.5,
        rss_before_kb=1000,
        rss_after_kb=1040,
        kb_per_connection=40 / max(established, 1),
        lost_connections=0,
        connect_failures={"TimeoutError: ": 10 - established} if established < 10 else {},
    )


def _report(*results: ConnectionsResult) -> Report:
    report = Report(
        server={"description": "test server", "host": "127.0.0.1", "port": 1, "app_id": "1", "cpu": 0},
        bench={"pid": 2, "cpu": 1},
    )
    report.results = list(results)
    return report


def test_table_shows_server_machine_and_figures() -> None:
    text = _report(_result(10)).render()
    assert "test server" in text
    assert "pinned to CPU 0" in text
    assert "connections: 10 idle connections" in text
    assert "RSS per connection  4.0 KB" in text
    assert "!" not in text


def test_problems_are_flagged() -> None:
    report = _report(_result(7))
    assert not report.ok
    assert "! 3 connection(s) failed: TimeoutError" in report.render()


def test_json_holds_everything(tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    _report(_result(10)).write_json(path)
    document = orjson.loads(path.read_bytes())
    assert document["machine"] == orjson.loads(orjson.dumps(machine()))
    assert document["server"]["description"] == "test server"
    assert document["scenarios"]["connections"]["ok"] is True
    assert document["scenarios"]["connections"]["params"] == {"connections": 10, "batch": 500, "settle": 2.0}
    assert document["scenarios"]["connections"]["kb_per_connection"] == 4.0

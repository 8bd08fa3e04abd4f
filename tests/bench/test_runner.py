"""``opbx bench`` end to end: our server spawned, every scenario, tiny."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from opbx.cli import main


@pytest.mark.integration
def test_bench_spawns_our_server_and_runs_everything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    affinity = os.sched_getaffinity(0)
    path = tmp_path / "bench.json"
    small = ["--subscribers", "10", "--duration", "0.5", "--warmup", "0.2", "--connections", "50", "--pause", "0"]
    code = main(["bench", "--spawn", "--scenario", "all", *small, "--json", str(path)])
    output = capsys.readouterr().out
    assert code == 0, output
    assert os.sched_getaffinity(0) == affinity
    assert "opbx realtime" in output
    for heading in ("connections: 50 idle", "latency: 10 subscribers", "throughput: 10 subscribers"):
        assert heading in output
    document = orjson.loads(path.read_bytes())
    assert document["command"]
    assert document["server"]["spawned"] is True
    scenarios = document["scenarios"]
    assert list(scenarios) == ["connections", "latency", "throughput"]
    assert all(scenario["ok"] for scenario in scenarios.values())
    assert scenarios["latency"]["received"] == scenarios["latency"]["expected"] == 10 * 10
    throughput = scenarios["throughput"]
    assert throughput["delivered"] == throughput["expected"] == throughput["publishes"] * 10


def test_one_scenario_against_an_external_server_that_is_not_there(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "--port", "1", "--scenario", "latency", "--no-pin"])
    assert code == 2
    assert "cannot measure 127.0.0.1:1" in capsys.readouterr().err


def test_a_missing_server_pid_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--server-pid", str(2**22 + 1)]) == 2
    assert "no process" in capsys.readouterr().err

"""The benchmark's output: a table for people and, on request, the same figures as JSON.

The JSON holds the machine, the command line, the server measured, each scenario's
parameters and results, so that runs can be compared later.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import orjson

__all__ = ["Report", "ScenarioResult", "machine"]


class ScenarioResult(Protocol):
    """What each scenario's result dataclass provides."""

    name: str

    @property
    def ok(self) -> bool: ...

    def heading(self) -> str: ...

    def rows(self) -> list[tuple[str, str]]: ...


def _first(path: str, prefix: str) -> str:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return ""
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(prefix)), "")


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    try:
        uvloop_version = metadata.version("uvloop")
    except metadata.PackageNotFoundError:
        uvloop_version = "?"
    return {
        "platform": platform.platform(),
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor(),
        "cpus": os.cpu_count(),
        "memory": _first("/proc/meminfo", "MemTotal"),
        "python": platform.python_version(),
        "uvloop": uvloop_version,
    }


@dataclass(slots=True)
class Report:
    """One run of ``opbx bench``."""

    server: dict[str, object]
    """Description, address, app, pid and core of the server measured."""
    bench: dict[str, object]
    """The load generator's pid and core."""
    machine: dict[str, object] = field(default_factory=machine)
    command: list[str] = field(default_factory=lambda: list(sys.argv))
    started: str = field(default_factory=lambda: datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"))
    results: list[ScenarioResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    def render(self) -> str:
        """The human-readable table."""
        m = self.machine
        lines = [
            "opbx bench: a Pusher-protocol server under load",
            f"  server   {self.server['description']}",
            f"           at {self.server['host']}:{self.server['port']}, app {self.server['app_id']},"
            f" {_core(self.server.get('cpu'))}",
            f"  bench    pid {self.bench['pid']}, {_core(self.bench.get('cpu'))}",
            f"  machine  {m['platform']}, {m['cpus']} CPUs ({m['cpu']}), {m['memory']},"
            f" Python {m['python']}, uvloop {m['uvloop']}",
        ]
        for result in self.results:
            lines += ["", result.heading()]
            rows = result.rows()
            width = max(len(label) for label, _ in rows)
            lines += [f"  {label:<{width}}  {value}" for label, value in rows]
            problems = _problems(result)
            lines += [f"  ! {problem}" for problem in problems]
        return "\n".join(lines)

    def to_json(self) -> bytes:
        document = {
            "started": self.started,
            "command": self.command,
            "machine": self.machine,
            "server": self.server,
            "bench": self.bench,
            "scenarios": {result.name: {"ok": result.ok, **_asdict(result)} for result in self.results},
        }
        return orjson.dumps(document, option=orjson.OPT_INDENT_2)

    def write_json(self, path: Path) -> None:
        path.write_bytes(self.to_json() + b"\n")


def _core(cpu: object) -> str:
    return f"pinned to CPU {cpu}" if cpu is not None else "not pinned"


def _asdict(result: ScenarioResult) -> dict[str, Any]:
    assert dataclasses.is_dataclass(result)
    assert not isinstance(result, type)
    return dataclasses.asdict(result)


def _problems(result: ScenarioResult) -> list[str]:
    """Failures a result records, one line each (connections, publishes, lost sockets)."""
    figures = _asdict(result)
    problems = [f"{count} connection(s) failed: {why}" for why, count in figures.get("connect_failures", {}).items()]
    problems += [f"{count} publish(es) failed: {why}" for why, count in figures.get("publish_errors", {}).items()]
    if figures.get("lost_connections"):
        problems.append(f"{figures['lost_connections']} connection(s) closed by the server during the run")
    if not result.ok and not problems:
        problems.append("incomplete: see the counts above")
    return problems

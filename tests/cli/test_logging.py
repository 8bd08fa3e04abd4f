"""Logs of every ``opbx`` process: ``--log-format json`` (or ``OPBX_LOG_FORMAT=json``) is one JSON
object a line on stderr, with the request id on every line a request causes; text is the default.

The servers run as real processes; their stderr is read line by line as they write it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from opbx.cli import main
from opbx.logs import JsonFormatter, TextFormatter, bind_request_id, install_request_ids, reset_request_id

pytestmark = pytest.mark.integration

OPBX = [sys.executable, "-m", "opbx.cli"]
API_LINE = re.compile(r"OpBX API on http://127\.0\.0\.1:(\d+)/api/v1")
TEXT_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")
HUNG_UP = re.compile(r"client hung up before sending the whole body \((\d+) of 1000 bytes arrived\)")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any OPBX_/database/Redis settings of the machine, plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("OPBX_") and name not in ("DATABASE_URL", "REDIS_URL")
    }
    return {**env, **extra}


def nowhere() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@dataclass
class Running:
    process: asyncio.subprocess.Process
    stderr: list[str] = field(default_factory=list)
    """Every line written so far, as written."""

    def entries(self) -> list[dict[str, Any]]:
        """Every line, each of which must be one JSON object."""
        parsed = []
        for line in self.stderr:
            entry = json.loads(line)
            assert isinstance(entry, dict), line
            parsed.append(entry)
        return parsed

    async def until(self, condition: Callable[[dict[str, Any]], bool], timeout: float = 20) -> dict[str, Any]:
        """The first JSON line that meets ``condition``, waiting for the process to write it."""
        async with asyncio.timeout(timeout):
            while True:
                for entry in self.entries():
                    if condition(entry):
                        return entry
                await asyncio.sleep(0.02)

    async def banner(self, pattern: re.Pattern[str]) -> re.Match[str]:
        assert self.process.stdout is not None
        async with asyncio.timeout(30):
            while True:
                line = (await self.process.stdout.readline()).decode()
                assert line, f"the process ended before printing {pattern.pattern!r}: {self.stderr}"
                if (match := pattern.search(line)) is not None:
                    return match

    async def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(self.process.wait(), 30) == 0, self.stderr


@asynccontextmanager
async def running(command: list[str], cwd: Path, env: dict[str, str]) -> AsyncIterator[Running]:
    process = await asyncio.create_subprocess_exec(
        *OPBX, *command, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    started = Running(process)

    async def collect() -> None:
        assert process.stderr is not None
        async for line in process.stderr:
            started.stderr.append(line.decode().rstrip("\n"))

    collector = asyncio.get_running_loop().create_task(collect())
    try:
        yield started
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await collector


async def hang_up_mid_body(port: int, request_id: str) -> None:
    """Send the headers and 10 of the 1000 bytes announced, then close the connection."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /webhooks/cloudonix/cdr HTTP/1.1\r\nHost: opbx.test\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\nX-Request-Id: " + request_id.encode() + b"\r\n\r\n" + b'{"call_id"'
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()


def assert_clean(run: Running) -> None:
    """Every line is JSON, none is an error, and nothing is a traceback."""
    entries = run.entries()
    assert "Traceback" not in "\n".join(run.stderr)
    assert [entry for entry in entries if entry["level"] in ("error", "critical")] == []
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= set(entry), entry
        assert entry["time"].endswith("Z"), entry


async def test_api_logs_json_with_the_request_id_on_every_line_a_request_causes(tmp_path: Path) -> None:
    env = clean_env(OPBX_API_PORT="0", OPBX_PUSHER_URL=nowhere())
    async with running(["api", "--log-format", "json"], tmp_path, env) as api:
        port = int((await api.banner(API_LINE))[1])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            given = await client.post("/webhooks/cloudonix/cdr", content=b"{}", headers={"X-Request-Id": "trace-1"})
            made = await client.post("/webhooks/cloudonix/cdr", content=b"{}")
        assert (given.status_code, given.headers["x-request-id"]) == (401, "trace-1")
        ours = made.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", ours)
        await hang_up_mid_body(port, "hangup-1")
        access = await api.until(
            lambda entry: entry.get("request_id") == "hangup-1" and entry["logger"] == "opbx.access"
        )
        await api.stop()

    assert_clean(api)
    for request_id in ("trace-1", ours):
        caused = [entry for entry in api.entries() if entry.get("request_id") == request_id]
        assert [(entry["logger"], entry["level"]) for entry in caused] == [
            ("opbx.api.webhooks", "warning"),
            ("opbx.access", "info"),
        ]
        assert caused[0]["message"] == "webhook cdr refused: missing or invalid X-Cloudonix-Signature"
        line = caused[1]
        assert {key: line[key] for key in ("method", "route", "path", "status", "client")} == {
            "method": "POST",
            "route": "/webhooks/cloudonix/cdr",
            "path": "/webhooks/cloudonix/cdr",
            "status": 401,
            "client": "127.0.0.1",
        }
        assert isinstance(line["duration_ms"], float)

    # The client that hung up: an info line (how much had arrived), the access line with 499, no traceback.
    hung_up = [entry for entry in api.entries() if entry.get("request_id") == "hangup-1"]
    assert [(entry["logger"], entry["level"]) for entry in hung_up] == [
        ("opbx.api.inputs", "info"),
        ("opbx.access", "info"),
    ]
    arrived = HUNG_UP.fullmatch(hung_up[0]["message"])
    assert arrived is not None, hung_up[0]
    assert int(arrived[1]) in (0, 10)  # what arrived before the close was read, or not yet
    assert access["status"] == 499
    said = [entry["message"] for entry in api.entries() if entry["logger"] == "opbx"]
    assert said[-2] == "shutting down"
    assert said[-1].startswith("API stopped in ")


async def test_serve_logs_json_when_the_environment_says_so(tmp_path: Path) -> None:
    env = clean_env(OPBX_API_PORT="0", OPBX_LOG_FORMAT="json")
    async with running(["serve", "--port", "0", "--no-metrics"], tmp_path, env) as serve:
        port = int((await serve.banner(API_LINE))[1])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/api/v1/openapi.json", headers={"X-Request-Id": "serve-1"})).status_code == 200
        await serve.until(lambda entry: entry.get("request_id") == "serve-1")
        await serve.stop()
    assert_clean(serve)
    loggers = {entry["logger"] for entry in serve.entries()}
    assert {"opbx.realtime", "opbx.access", "opbx"} <= loggers
    finished = [entry for entry in serve.entries() if entry["message"].startswith("shutdown finished in ")]
    assert len(finished) == 1
    assert finished[0]["sockets"] == 0


def run_command(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OPBX, *command], cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=60)


def test_the_other_commands_log_json_too_and_text_by_default(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/opbx.sqlite3"
    result = run_command(
        ["db", "upgrade", "--log-level", "info", "--log-format", "json", "--database-url", url], tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines, "alembic says which migrations it runs"
    entries = [json.loads(line) for line in lines]
    assert {entry["logger"] for entry in entries} == {"alembic.runtime.migration"}
    assert all("request_id" not in entry for entry in entries), "no request caused them"

    url = f"sqlite:///{tmp_path}/other.sqlite3"
    result = run_command(["db", "upgrade", "--log-level", "info", "--database-url", url], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()
    assert all(TEXT_LINE.match(line) for line in result.stderr.splitlines()), result.stderr


def test_an_unknown_log_format_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/opbx.sqlite3"
    assert main(["db", "upgrade", "--log-format", "xml", "--database-url", url]) == 2
    assert capsys.readouterr().err == "opbx: --log-format: unknown log format 'xml'; use text or json\n"
    monkeypatch.setenv("OPBX_LOG_FORMAT", "yaml")
    assert main(["db", "upgrade", "--database-url", url]) == 2
    assert capsys.readouterr().err == "opbx: OPBX_LOG_FORMAT: unknown log format 'yaml'; use text or json\n"
    assert main(["db", "upgrade", "--log-format", "JSON", "--database-url", url]) == 0, "the option wins"
    result = run_command(["api", "--log-format", "xml"], tmp_path)
    assert (result.returncode, result.stderr) == (2, "opbx: --log-format: unknown log format 'xml'; use text or json\n")
    assert not (tmp_path / "var").exists(), "refused before anything started"


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    """A record made as ``logging`` makes them (through the record factory), while request trace-9 is bound."""
    install_request_ids()
    token = bind_request_id("trace-9")
    try:
        exc_info = None
        try:
            raise ValueError("boom")
        except ValueError as exc:
            exc_info = (type(exc), exc, exc.__traceback__) if extra.pop("failed", False) else None
        return logging.getLogger("opbx.test").makeRecord(
            "opbx.test", logging.WARNING, __file__, 1, message, args, exc_info, extra=extra
        )
    finally:
        reset_request_id(token)


def test_the_formats_name_the_request() -> None:
    line = record("hello %s", "world", sockets=3)
    assert TextFormatter().format(line).endswith(" WARNING opbx.test: hello world [request trace-9]")
    entry = json.loads(JsonFormatter().format(line))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry.pop("time"))
    assert entry == {
        "level": "warning",
        "logger": "opbx.test",
        "message": "hello world",
        "request_id": "trace-9",
        "sockets": 3,
    }


def test_a_json_message_is_merged_and_a_traceback_is_one_field() -> None:
    relayed = json.loads(
        JsonFormatter().format(record('{"message": "broadcast", "event": "call.initiated", "level": 1}'))
    )
    assert (relayed["message"], relayed["event"], relayed["level"]) == ("broadcast", "call.initiated", "warning")
    failed = JsonFormatter().format(record("it broke", failed=True))
    assert "\n" not in failed
    assert json.loads(failed)["exception"].startswith("Traceback (most recent call last):")
    assert json.loads(failed)["exception"].endswith("ValueError: boom")

"""Run a Node scenario of ``tests/js/scenario.mjs`` and collect what its clients observed.

The scenario runs as an asyncio subprocess, so the test's event loop (and the
in-process realtime server on it) keeps running. It reports JSON lines; on each
``{"type": "ready", "step": ...}`` the matching handler runs (it acts through the
pusher SDK) before the next line is read. Everything else is kept in a
:class:`Transcript` for the test's assertions.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["JS_DIR", "SCENARIO_SCRIPT", "ReadyHandler", "Transcript", "find_node", "run_scenario"]

JS_DIR = Path(__file__).resolve().parents[1] / "js"
SCENARIO_SCRIPT = JS_DIR / "scenario.mjs"

ReadyHandler = Callable[[dict[str, Any]], Awaitable[None]]
"""Called with the ``ready`` record; returns once the test has done its part."""

Record = dict[str, Any]

_MARGIN = 10.0
"""Seconds the test waits beyond the scenario's own hang guard before killing it."""


def find_node() -> str:
    """The ``node`` executable, with the npm packages installed, or a failure saying what is missing."""
    node = shutil.which("node")
    assert node is not None, "node is not on PATH; the JS client tests need Node 20 or later"
    for package in ("pusher-js", "laravel-echo"):
        assert (JS_DIR / "node_modules" / package).is_dir(), (
            f"{package} is not installed: run `cd tests/js && npm ci` (`make pytest` does it)"
        )
    return node


@dataclass
class Transcript:
    """The records a scenario reported, in order, and how it ended."""

    scenario: str
    records: list[Record] = field(default_factory=list)
    returncode: int | None = None
    stderr: str = ""

    @property
    def outcome(self) -> str:
        """``done``, ``timeout`` or ``crash`` (the scenario's last word), else ``no end``."""
        for record in reversed(self.records):
            if record.get("type") in ("done", "timeout", "crash"):
                return str(record["type"])
        return "no end"

    def of(self, client: str, type: str, **fields: Any) -> list[Record]:
        """The records of ``client`` with this ``type`` and these field values."""
        return [
            record
            for record in self.records
            if record.get("client") == client
            and record.get("type") == type
            and all(record.get(key) == value for key, value in fields.items())
        ]

    def events(self, client: str, channel: str) -> list[tuple[str, Any]]:
        """``(event, data)`` of each application event ``client`` got on ``channel``."""
        return [(record["event"], record["data"]) for record in self.of(client, "event", channel=channel)]

    def wire(self, client: str, event: str, channel: str | None = None) -> list[Record]:
        """Messages named ``event`` that reached ``client`` (as pusher-js decoded them)."""
        return [
            record
            for record in self.of(client, "wire", event=event)
            if channel is None or record.get("channel") == channel
        ]

    def states(self, client: str) -> list[str]:
        """The connection states ``client`` went through."""
        return [record["current"] for record in self.of(client, "state")]

    def describe(self, width: int = 400) -> str:
        """The transcript for an assertion message: records (pings left out), then stderr's tail."""
        lines = [f"scenario {self.scenario!r} ended with {self.outcome} (exit status {self.returncode})"]
        for record in self.records:
            if record.get("type") == "wire" and record.get("event") in ("pusher:ping", "pusher:pong"):
                continue
            text = json.dumps(record, ensure_ascii=False)
            lines.append(text if len(text) <= width else text[:width] + " ...")
        tail = self.stderr[-4000:]
        lines.append("--- stderr (tail) ---")
        lines.append(tail)
        return "\n".join(lines)


async def run_scenario(
    node: str,
    scenario: str,
    *,
    port: int,
    key: str,
    channel_auth_url: str,
    user_auth_url: str,
    on_ready: Mapping[str, ReadyHandler] | None = None,
    timeout: float = 15.0,
    extra_env: Mapping[str, str] | None = None,
) -> Transcript:
    """Run ``scenario``; answer its ``ready`` steps with ``on_ready``; return its transcript.

    ``timeout`` is the scenario's hang guard; the process is killed if it outlives it
    by a margin. An exception from a handler kills the scenario and is raised, with
    the transcript so far attached as a note.
    """
    handlers = dict(on_ready or {})
    env = dict(os.environ)
    env.update(
        OPBX_WS_HOST="127.0.0.1",
        OPBX_WS_PORT=str(port),
        OPBX_APP_KEY=key,
        OPBX_AUTH_ENDPOINT=channel_auth_url,
        OPBX_USER_AUTH_ENDPOINT=user_auth_url,
        OPBX_SCENARIO_TIMEOUT_MS=str(int(timeout * 1000)),
    )
    env.update(extra_env or {})
    process = await asyncio.create_subprocess_exec(
        node,
        str(SCENARIO_SCRIPT),
        scenario,
        cwd=JS_DIR,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=1 << 20,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    stderr_task = asyncio.create_task(process.stderr.read())
    transcript = Transcript(scenario)
    try:
        async with asyncio.timeout(timeout + _MARGIN):
            while line := await process.stdout.readline():
                record = _parse(line)
                transcript.records.append(record)
                if record.get("type") == "ready":
                    step = str(record.get("step"))
                    assert step in handlers, (
                        f"scenario {scenario!r} is ready for {step!r}, which the test does not handle"
                    )
                    await handlers[step](record)
            transcript.returncode = await process.wait()
    except BaseException as exc:
        if process.returncode is None:
            process.kill()
            await process.wait()
        transcript.returncode = process.returncode
        transcript.stderr = (await stderr_task).decode(errors="replace")
        exc.add_note(transcript.describe())
        raise
    transcript.stderr = (await stderr_task).decode(errors="replace")
    return transcript


def _parse(line: bytes) -> Record:
    text = line.decode(errors="replace").strip()
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError:
        return {"type": "noise", "text": text}
    return decoded if isinstance(decoded, dict) else {"type": "noise", "text": text}

"""Adapters are imported by name, when chosen: a single-process server never imports a Redis client."""

from __future__ import annotations

import subprocess
import sys

import pytest

from opbx.adapters import ADAPTERS, load_adapter
from opbx.adapters.local import LocalAdapter

_SERVE_ALONE = """
import asyncio, sys
from opbx.realtime.config import load_config
from opbx.realtime.server import RealtimeServer

async def main():
    config = load_config(None, {}, port=0, metrics_port=0)
    server = RealtimeServer(config)
    await server.start()
    assert server.ready
    await server.stop()

asyncio.run(main())
print(sorted({name.split(".")[0] for name in sys.modules} & {"redis"}))
if "--then-redis" in sys.argv:
    from opbx.adapters import load_adapter
    load_adapter("redis", url="redis://127.0.0.1:1/0")
    print(sorted({name.split(".")[0] for name in sys.modules} & {"redis"}))
"""


def _modules_after(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _SERVE_ALONE, *args], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.splitlines()


@pytest.mark.integration
def test_a_single_process_server_never_imports_redis() -> None:
    # The same process then loads the Redis adapter, so the probe is shown able to see it.
    assert _modules_after("--then-redis") == ["[]", "['redis']"]


def test_adapters_are_chosen_by_name() -> None:
    assert set(ADAPTERS) == {"local", "redis"}
    assert isinstance(load_adapter("local"), LocalAdapter)
    with pytest.raises(ValueError, match="Unknown adapter 'nats'"):
        load_adapter("nats")

"""TLS on the server's port: wss:// and https:// with a certificate made for the test."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import websockets

from opbx.configuration import ConfigError
from opbx.realtime.config import load_config
from tests.conftest import ServerFactory
from tests.helpers.apps import TEST_APP
from tests.helpers.http_api import api_request
from tests.helpers.nodes import free_port
from tests.helpers.plain_http import KeepAlive
from tests.helpers.tls import Certificate, self_signed


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return self_signed(tmp_path)


async def test_wss_and_https_share_the_port(make_server: ServerFactory, certificate: Certificate) -> None:
    server = await make_server(ssl_cert=str(certificate.cert_file), ssl_key=str(certificate.key_file))
    context = certificate.client_context()
    url = f"wss://127.0.0.1:{server.port}/app/{TEST_APP.key}?protocol=7"
    async with websockets.connect(url, ssl=context) as ws:
        established = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert established["event"] == "pusher:connection_established"
        await ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": "secure"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["event"] == "pusher_internal:subscription_succeeded"
        body = json.dumps({"name": "hello", "channel": "secure", "data": "{}"}).encode()
        status, _ = await api_request(
            server.port,
            "POST",
            f"/apps/{TEST_APP.id}/events",
            key=TEST_APP.key,
            secret=TEST_APP.secret,
            body=body,
            context=context,
        )
        assert status == 200
        event = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert (event["event"], event["channel"]) == ("hello", "secure")
    health = KeepAlive(server.port, context=context)
    try:
        assert await health.get("/ready") == (200, {"ready": True})
        assert await health.get("/") == (200, {"ok": True})  # the same TLS connection, kept alive
    finally:
        health.close()


async def test_a_client_that_does_not_trust_the_certificate_is_refused(
    make_server: ServerFactory, certificate: Certificate, tmp_path: Path
) -> None:
    server = await make_server(ssl_cert=str(certificate.cert_file), ssl_key=str(certificate.key_file))
    other = tmp_path / "other"
    other.mkdir()
    stranger = self_signed(other)
    with pytest.raises(ssl.SSLCertVerificationError):
        await websockets.connect(
            f"wss://127.0.0.1:{server.port}/app/{TEST_APP.key}?protocol=7", ssl=stranger.client_context()
        )


def test_the_certificate_and_key_are_checked_at_start_up(certificate: Certificate, tmp_path: Path) -> None:
    cert, key = str(certificate.cert_file), str(certificate.key_file)
    config = load_config(None, {}, ssl_cert=cert, ssl_key=key)
    assert (config.ssl_cert, config.ssl_key) == (cert, key)
    with pytest.raises(ConfigError, match="give both or neither"):
        load_config(None, {}, ssl_cert=cert)
    absent = tmp_path / "absent.pem"
    with pytest.raises(ConfigError, match=f"the key file {absent} does not exist"):
        load_config(None, {}, ssl_cert=cert, ssl_key=str(absent))
    with pytest.raises(ConfigError, match="cannot load"):
        load_config(None, {}, ssl_cert=key, ssl_key=cert)  # swapped
    toml = tmp_path / "opbx.toml"
    toml.write_text(f'[server]\nssl_cert = "{cert}"\nssl_key = "{key}"\n')
    assert load_config(toml, {}).ssl_key == key


@pytest.mark.integration  # a process of its own
def test_opbx_realtime_serves_tls_with_the_command_line_flags(certificate: Certificate) -> None:
    port = free_port()
    command = [sys.executable, "-m", "opbx.cli", "realtime", "--port", str(port), "--no-metrics"]
    command += ["--ssl-cert", str(certificate.cert_file), "--ssl-key", str(certificate.key_file)]
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPBX_")}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env) as process:
        assert process.stdout is not None
        assert f"wss://127.0.0.1:{port} and https://127.0.0.1:{port}" in process.stdout.readline()
        banner: list[str] = []
        while not banner or "development credentials" not in banner[-1]:
            banner.append(process.stdout.readline())
        assert "forceTLS: true" in "".join(banner)
        assert not any("metrics:" in line for line in banner)

        async def connect() -> str:
            url = f"wss://localhost:{port}/app/opbx-key?protocol=7"
            async with websockets.connect(url, ssl=certificate.client_context()) as ws:
                event: str = json.loads(await asyncio.wait_for(ws.recv(), 5))["event"]
                return event

        assert asyncio.run(connect()) == "pusher:connection_established"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0

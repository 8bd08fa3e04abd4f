"""An operator onboards a company from nothing, with the commands of the README only.

A fresh directory, then ``opbx db upgrade``, ``opbx org create``, ``opbx user create``,
``opbx extension create``, ``opbx did create`` and ``opbx serve``: the new user signs in, is
authorized for their organization's presence channel and not for another's, and a signed
webhook for the new number reaches their socket as ``call.initiated`` with the seed's payload.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from opbx.telephony.ingest import sign_body
from tests.helpers.pusher_client import PusherClient

pytestmark = pytest.mark.integration

OPBX = [sys.executable, "-m", "opbx.cli"]
PASSWORD = "a long and careful passphrase"
APP_KEY = "onboarding-key"


def environment(**extra: str) -> dict[str, str]:
    """The machine's environment without OPBX_ or database settings (the defaults apply), plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("OPBX_") and name not in ("DATABASE_URL", "REDIS_URL")
    }
    return {**env, **extra}


def opbx(directory: Path, *args: str, stdin: str | None = None) -> Any:
    """Run one provisioning command as an operator would; return the JSON it prints."""
    result = subprocess.run(
        [*OPBX, *args], cwd=directory, env=environment(), input=stdin, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    if args[0] == "db":
        return None
    return json.loads(result.stdout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Company:
    organization: dict[str, Any]
    user: dict[str, Any]
    extension: dict[str, Any]
    did: dict[str, Any]
    other_organization: dict[str, Any]


def onboard(directory: Path) -> Company:
    opbx(directory, "db", "upgrade")
    organization = opbx(directory, "org", "create", "--name", "Initech")
    org = str(organization["id"])
    user = opbx(
        directory,
        *("user", "create", "--org", org, "--email", "peter@initech.example", "--name", "Peter Gibbons"),
        *("--role", "admin", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    extension = opbx(directory, "extension", "create", "--org", org, "--number", "201", "--user", str(user["id"]))
    did = opbx(
        directory, "did", "create", "--org", org, "--number", "+15557770100", "--extension", str(extension["id"])
    )
    other = opbx(directory, "org", "create", "--name", "Initrode")
    return Company(organization, user, extension, did, other)


@dataclass
class Served:
    api: httpx.AsyncClient
    realtime_port: int


@pytest.fixture
async def company_served(tmp_path: Path) -> AsyncIterator[tuple[Company, Served]]:
    company = onboard(tmp_path)
    api_port = free_port()
    env = environment(OPBX_API_PORT=str(api_port), OPBX_APP_KEY=APP_KEY, OPBX_APP_SECRET="onboarding-secret-1234")
    process = await asyncio.create_subprocess_exec(
        *OPBX,
        *("serve", "--port", "0", "--no-metrics"),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    realtime_port = None
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert line, "opbx serve stopped before printing its dashboard URL"
        if line.startswith("OpBX realtime server"):
            realtime_port = int(line.split(" and ")[0].rsplit(":", 1)[1])
        if line.startswith("Dashboard: "):
            break
    assert realtime_port is not None
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=10) as api:
        yield company, Served(api, realtime_port)
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 30) == 0


async def test_a_new_company_goes_live_with_the_provisioning_commands(
    company_served: tuple[Company, Served],
) -> None:
    company, served = company_served
    organization_id = company.organization["id"]
    assert company.organization["webhook_secret"]
    assert company.user["organization_id"] == company.extension["organization_id"] == organization_id
    assert company.did["extension_id"] == company.extension["id"]

    login = await served.api.post("/api/v1/auth/login", json={"email": "peter@initech.example", "password": PASSWORD})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    assert login.json()["user"]["name"] == "Peter Gibbons"

    client = await PusherClient.connect(served.realtime_port, APP_KEY)
    try:
        channel = f"presence-org.{organization_id}"
        auth = await served.api.post(
            "/api/v1/broadcasting/auth", data={"socket_id": client.socket_id, "channel_name": channel}, headers=headers
        )
        assert auth.status_code == 200, auth.text
        answer = await client.subscribe_signed(channel, auth.json())
        assert answer["event"] == "pusher_internal:subscription_succeeded", answer

        other = f"presence-org.{company.other_organization['id']}"
        refused = await served.api.post(
            "/api/v1/broadcasting/auth", data={"socket_id": client.socket_id, "channel_name": other}, headers=headers
        )
        assert refused.status_code == 403

        body = json.dumps(
            {
                "call_id": "initech-call-1",
                "from": "+12025550123",
                "to": "+15557770100",
                "timestamp": "2027-03-01T09:30:00.000Z",
                "direction": "inbound",
                "status": "initiated",
            }
        ).encode()
        signature = sign_body(company.organization["webhook_secret"], body)
        posted = await served.api.post(
            f"/webhooks/cloudonix/call-initiated?org={organization_id}",
            content=body,
            headers={"X-Cloudonix-Signature": signature, "Content-Type": "application/json"},
        )
        assert posted.status_code == 200, posted.text
        assert posted.json()["outcome"] == "applied"

        event = await client.expect("call.initiated", timeout=10)
        assert event["channel"] == channel
        payload = json.loads(event["data"])
        assert payload.pop("event_id")  # our addition beside the seed's fields, for de-duplication
        assert payload.pop("seq") == 1  # and the organization's first event: its sequence number
        assert payload == {
            "call_id": "initech-call-1",
            "from_number": "+12025550123",
            "to_number": "+15557770100",
            "did_id": company.did["id"],
            "status": "initiated",
            "initiated_at": "2027-03-01T09:30:00.000Z",
        }
    finally:
        await client.close()

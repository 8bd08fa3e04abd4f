"""The whole API fuzzed from its own OpenAPI document by schemathesis, on SQLite and PostgreSQL.

A real ``opbx serve --demo`` answers requests generated from every operation's declared
parameters and bodies, valid and invalid (Hypothesis, a fixed seed, a bounded number of
examples). The run fails on any 5xx, on any answer the document does not declare or
describe, and on any request that breaks the document yet is accepted. Bearer routes get a
signed-in admin's token, webhooks a valid signature (the fuzz is about what comes after).
The example count and the time are printed (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok

from opbx.demo import DEMO_PASSWORD
from opbx.telephony.ingest import sign_body
from tests.helpers.databases import PostgresForTests

pytestmark = pytest.mark.integration

EXAMPLES = 50
"""Examples per operation (positive and negative together)."""
SEED = 20261129
IGNORED = (
    schemathesis.checks.ignored_auth,  # we always send valid credentials; 401s are tested in test_roles.py
    schemathesis.checks.positive_data_acceptance,  # a valid shape may still break a rule (a weak password)
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``opbx serve --demo`` on the database of the parameter; its base URL."""
    scratch = PostgresForTests() if request.param == "postgresql" else None
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("OPBX_") and name not in ("DATABASE_URL", "REDIS_URL")
    }
    port = free_port()
    env["OPBX_API_PORT"] = str(port)
    if scratch is not None:
        asyncio.run(scratch.create())
        env["DATABASE_URL"] = scratch.url
    process = subprocess.Popen(
        [sys.executable, "-m", "opbx.cli", "serve", "--demo", "--port", "0", "--no-metrics", "--log-level", "error"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Dashboard: "):
                break
        else:
            raise AssertionError(process.stderr.read() if process.stderr else "opbx serve did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
        if scratch is not None:
            asyncio.run(scratch.drop())
    assert "Traceback" not in errors, errors[-3000:]


class Session:
    """A signed-in admin and the organization's current webhook secret."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.secret = "demo-webhook-secret"  # the demo organization's
        self.token = self.sign_in()
        # Tokens for logout to revoke, signed in before the fuzz's wrong passwords get this
        # address throttled (as they should).
        self.spare = [self.sign_in() for _ in range(EXAMPLES)]

    def sign_in(self) -> str:
        answer = requests.post(
            f"{self.base}/api/v1/auth/login",
            json={"email": "admin@demo.opbx", "password": DEMO_PASSWORD},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["token"]
        return token

    def send(self, case: Any, label: str) -> requests.Response:
        token = self.token
        if label == "POST /api/v1/auth/logout":  # keep our own token alive
            token = self.spare.pop() if self.spare else "spent"
        kwargs: dict[str, Any] = case.as_transport_kwargs(
            base_url=self.base, headers={"Authorization": f"Bearer {token}"}
        )
        if label.startswith("POST /webhooks/"):
            body = kwargs.pop("json", None)
            raw = json.dumps(body).encode() if body is not None else kwargs.pop("data", None) or b""
            if isinstance(raw, str):
                raw = raw.encode()
            kwargs["data"] = raw
            kwargs["headers"]["X-Cloudonix-Signature"] = sign_body(self.secret, raw)
        response = requests.request(**kwargs, timeout=30)
        if label == "POST /api/v1/organization/webhook-secret" and response.status_code == 200:
            self.secret = response.json()["data"]["webhook_secret"]
        return response


def fuzz(operation: Any, session: Session, failures: list[str], statuses: Counter[int]) -> None:
    """Send ``operation`` its generated examples; collect every check that fails."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = session.send(case, operation.label)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, excluded_checks=list(IGNORED))
        except BaseException as exc:  # schemathesis raises an exception group: collected, reported below
            failures.append(f"{operation.label} -> {response.status_code}: {exc}"[:1500])

    run()


def test_no_input_breaks_the_api_or_the_document(served: str) -> None:
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": EXAMPLES,
                "deterministic": True,
                "with-security-parameters": False,
            },
        }
    )
    schema = schemathesis.openapi.from_url(f"{served}/api/v1/openapi.json", config=config)
    session = Session(served)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    started = time.monotonic()

    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        fuzz(result.ok(), session, failures, statuses)

    elapsed = time.monotonic() - started
    total = sum(statuses.values())
    print(f"\n[fuzz] {total} requests in {elapsed:.1f} s; answers {dict(sorted(statuses.items()))}", flush=True)
    assert not [status for status in statuses if status >= 500]
    assert failures == []

"""Every request's id (kept from the client when sane, else made), its access line, and the id
on every line the request causes."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from opbx.logs import current_request_id
from tests.helpers.world import World

GENERATED = re.compile(r"[0-9a-f]{32}")


async def test_a_sane_request_id_is_kept_and_returned(client: httpx.AsyncClient) -> None:
    for sane in ("abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "nginx.7:a/b+c=d@e~f_g", "x" * 128):
        response = await client.get("/livez", headers={"X-Request-Id": sane})
        assert response.headers["x-request-id"] == sane


async def test_anything_else_gets_an_id_of_ours(client: httpx.AsyncClient) -> None:
    given: list[bytes | None] = [None, b"", b"has space", b"x" * 129, b'quote"d', "caf\u00e9".encode(), b"a;b"]
    returned = []
    for bad in given:
        headers = {b"X-Request-Id": bad} if bad is not None else {}
        response = await client.get("/livez", headers=headers)
        returned.append(response.headers["x-request-id"])
    assert all(GENERATED.fullmatch(made) for made in returned), returned
    assert len(set(returned)) == len(given), "a new id each time"


async def test_errors_carry_the_request_id_too(client: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/api/v1/auth/me"), ("POST", "/no-such-route"), ("POST", "/webhooks/cloudonix/cdr")):
        response = await client.request(method, path, headers={"X-Request-Id": "err-1"}, content=b"{}")
        assert response.status_code in (401, 404)
        assert response.headers["x-request-id"] == "err-1"


async def test_every_line_a_request_causes_carries_its_id(
    client: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await client.post(
        "/webhooks/cloudonix/call-initiated",
        content=b'{"call_id":"x","to":"+15550001000"}',
        headers={"X-Request-Id": "trace-42", "X-Cloudonix-Signature": "0" * 64},
    )
    assert response.status_code == 401
    assert current_request_id() is None, "unbound once the request is done"
    caused = [record for record in caplog.records if getattr(record, "request_id", None) == "trace-42"]
    assert [(record.name, record.levelname) for record in caused] == [
        ("opbx.api.webhooks", "WARNING"),
        ("opbx.access", "INFO"),
    ]
    access = caused[-1]
    assert access.getMessage() == (
        f"POST /webhooks/cloudonix/call-initiated 401 {access.duration_ms:.1f}ms "  # type: ignore[attr-defined]
        "route=/webhooks/cloudonix/call-initiated client=127.0.0.1"
    )
    fields = {key: getattr(access, key) for key in ("method", "route", "path", "status", "client")}
    assert fields == {
        "method": "POST",
        "route": "/webhooks/cloudonix/call-initiated",
        "path": "/webhooks/cloudonix/call-initiated",
        "status": 401,
        "client": "127.0.0.1",
    }
    before = [record for record in caplog.records if record.name != "opbx.access"]
    assert all(getattr(record, "request_id", None) in (None, "trace-42") for record in before)


async def test_probes_and_metrics_are_logged_at_debug(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="opbx.access")
    for path in ("/livez", "/readyz", "/metrics", "/api/v1/openapi.json"):
        assert (await client.get(path)).status_code == 200
    levels = {record.path: record.levelname for record in caplog.records if record.name == "opbx.access"}  # type: ignore[attr-defined]
    assert levels == {"/livez": "DEBUG", "/readyz": "DEBUG", "/metrics": "DEBUG", "/api/v1/openapi.json": "INFO"}

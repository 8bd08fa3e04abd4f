"""The API's OpenAPI document: valid, served, and the same set of routes as the app, both ways."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from openapi_spec_validator import validate
from starlette.routing import Mount, Route

from opbx.system import Backend
from tests.helpers.openapi_check import document

BUILD = Path(__file__).resolve().parents[2] / "src" / "opbx" / "dashboard" / "static"


def app_routes(backend: Backend) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves; the dashboard's mount serves GET /."""
    found: set[tuple[str, str]] = set()
    for route in backend.api.routes:
        if isinstance(route, Mount):
            found.add(("GET", route.path or "/"))
        elif isinstance(route, Route):
            found.update((method, route.path) for method in route.methods or () if method != "HEAD")
    return found


def documented(spec: dict[str, object]) -> set[tuple[str, str]]:
    paths = spec["paths"]
    assert isinstance(paths, dict)
    return {(method.upper(), path) for path, item in paths.items() for method in item}


async def test_the_document_is_valid_openapi_3_1(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"] == "3.1.0"
    validate(spec)  # raises on any violation of the OpenAPI 3.1 schema
    assert spec == document()


async def test_every_route_is_documented_and_every_documented_route_is_served(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    served, described = app_routes(backend), documented(spec)
    assert served - described == set(), "routes missing from the document"
    assert described - served == set(), "documented routes the app does not serve"
    for kind in ("call-initiated", "call-status", "cdr"):
        assert ("POST", f"/webhooks/cloudonix/{kind}") in described


async def test_every_operation_declares_its_answers_and_errors(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            statuses = set(operation["responses"])
            assert any(status.startswith("2") for status in statuses), where
            if operation["security"] == [{"bearerToken": []}]:
                assert "401" in statuses, where
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= statuses, where
            for status, answer in operation["responses"].items():
                for content in answer.get("content", {}).values():
                    ref = content["schema"].get("$ref")
                    if ref is not None:
                        assert ref.removeprefix("#/components/schemas/") in schemas, (where, status)
                success = next(answer for status, answer in operation["responses"].items() if status < "300")
                if status >= "400" and answer.get("content") != success.get("content"):  # 503 health: a report
                    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody"), where


async def test_the_reference_page_works_offline(client: httpx.AsyncClient) -> None:
    assert (BUILD / "index.html").exists(), "build the dashboard first: make pytest, or cd frontend && npm run build"
    page = await client.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources, page.text
    for source in sources:
        assert source.startswith("/api-docs/"), f"{source} is not served by us"
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 10_000, source
    assert "/api/v1/openapi.json" in page.text


async def test_the_dashboard_answers_its_own_paths_and_not_missing_assets(client: httpx.AsyncClient) -> None:
    for path in ("/", "/settings", "/settings/users"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "<div id=" in response.text
    assert (await client.get("/assets/no-such-file.js")).status_code == 404
    assert (await client.post("/no-such-route", content=b"{}")).status_code == 404

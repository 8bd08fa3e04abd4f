"""The API describes itself: ``GET /api/v1/openapi.json`` and a readable reference at ``/api/docs``.

The reference page is Swagger UI, bundled into the dashboard's build (``/api-docs/``), so it
works with no network beyond this server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from opbx import __version__
from opbx.api.contract import Auth, Operation
from opbx.api.openapi import openapi_document
from opbx.dashboard import STATIC_DIR

__all__ = ["reference_operations"]

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>OpBX API reference</title>
  <link rel="stylesheet" href="/api-docs/swagger-ui.css">
</head>
<body>
  <div id="reference"></div>
  <script src="/api-docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/api/v1/openapi.json", dom_id: "#reference", deepLinking: true,
      defaultModelsExpandDepth: 0, tryItOutEnabled: false,
    });
  </script>
</body>
</html>
"""
_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>OpBX API reference</title>
<h1>The API reference page is not built</h1>
<p>It is bundled with the dashboard: <code>make run</code> builds it. The document itself is at
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>"""


def reference_operations(api_operations: Sequence[Operation]) -> tuple[Operation, ...]:
    """The two routes, describing ``api_operations`` and themselves."""
    document: bytes = b""

    async def openapi_json(request: Request) -> Response:
        return Response(document, media_type="application/json")

    async def api_reference(request: Request) -> Response:
        if not (STATIC_DIR / "api-docs" / "swagger-ui-bundle.js").is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503)
        return HTMLResponse(_PAGE)

    operations = (
        Operation("GET", "/api/v1/openapi.json", openapi_json, "This document (OpenAPI 3.1)", "Reference",
                  {200: dict[str, Any]}, auth=Auth.NONE),
        Operation("GET", "/api/docs", api_reference, "The API reference page (Swagger UI)", "Reference",
                  {200: None, 503: None}, auth=Auth.NONE, media_type="text/html"),
    )  # fmt: skip
    document = msgspec.json.encode(openapi_document([*api_operations, *operations], __version__))
    return operations

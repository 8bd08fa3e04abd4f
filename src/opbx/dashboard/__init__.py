"""The live calls dashboard, built from ``frontend/`` into ``static/`` and served by the API."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "dashboard_routes"]

STATIC_DIR = Path(__file__).with_name("static")

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>OpBX</title>
<h1>The dashboard is not built</h1>
<p><code>make run</code> builds it. By hand: <code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>.</p>"""


async def _not_built(_: object) -> HTMLResponse:
    return HTMLResponse(_NOT_BUILT, status_code=503)


def dashboard_routes() -> list[BaseRoute]:
    """Serve the built page at ``/``, or say how to build it."""
    if (STATIC_DIR / "index.html").is_file():
        return [Mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="dashboard")]
    return [Route("/", _not_built)]

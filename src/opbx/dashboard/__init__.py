"""The live calls dashboard, built from ``frontend/`` into ``static/`` and served by the API.

The page is a single-page app: a path without a file of its own (``/settings``) is served
``index.html`` so a link or a reload lands on the right view; a missing asset is a 404.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["STATIC_DIR", "dashboard_routes"]

STATIC_DIR = Path(__file__).with_name("static")

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>OpBX</title>
<h1>The dashboard is not built</h1>
<p><code>make run</code> builds it. By hand: <code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>.</p>"""


class _SinglePageApp(StaticFiles):
    """Static files, with ``index.html`` for the page's own paths (no file extension)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(404)  # no API route matched: nothing is there, whatever the method
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or "." in path.rsplit("/", 1)[-1]:
                raise
            return await super().get_response("index.html", scope)


async def _not_built(_: object) -> HTMLResponse:
    return HTMLResponse(_NOT_BUILT, status_code=503)


def dashboard_routes() -> list[BaseRoute]:
    """Serve the built page at ``/``, or say how to build it."""
    if (STATIC_DIR / "index.html").is_file():
        return [Mount("/", _SinglePageApp(directory=STATIC_DIR, html=True), name="dashboard")]
    return [Route("/", _not_built)]

"""The demo system and headless Chromium, for the dashboard's browser tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.dashboard.browser import launch
from tests.dashboard.stack import DashboardStack, start_stack

BUILD = Path(__file__).resolve().parents[2] / "src" / "opbx" / "dashboard" / "static" / "index.html"


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[DashboardStack]:
    assert BUILD.exists(), "build the dashboard first: make pytest, or cd frontend && npm run build"
    stack = await start_stack(tmp_path)
    yield stack
    await stack.close()


@pytest.fixture
async def browser(stack: DashboardStack) -> AsyncIterator[Browser]:
    """Chromium, closed before the system stops (it depends on ``stack``)."""
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        yield browser
        await browser.close()

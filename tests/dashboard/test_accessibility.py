"""axe-core over every page of the dashboard, in Chromium: no serious or critical violation.

axe-core is the frontend's pinned dev dependency (``frontend/node_modules/axe-core``), injected
into the page as it is; https://github.com/dequelabs/axe-core/blob/develop/doc/API.md
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from opbx.demo import DEMO_PASSWORD
from tests.dashboard.browser import CALL_ROWS, new_page, page_errors, sign_in_live
from tests.dashboard.stack import ADMIN_EMAIL, ADMIN_NAME, DashboardStack

pytestmark = [pytest.mark.browser, pytest.mark.integration]

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


async def violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (WCAG 2.x A and AA, and best practices)."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const result = await window.axe.run(document, { resultTypes: ["violations"] });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
            }));
        }"""
    )
    return found


def blocking(found: list[dict[str, Any]]) -> list[str]:
    for violation in found:
        print(f"\n[axe] {violation['impact']}: {violation['id']} ({violation['help']}) at {violation['nodes']}")
    return [f"{v['id']}: {v['help']} at {v['nodes']}" for v in found if v["impact"] in BLOCKING]


async def test_no_serious_or_critical_violation_on_any_page(stack: DashboardStack, browser: Browser) -> None:
    assert AXE.is_file(), "npm ci in frontend/ installs axe-core"
    context, page = await new_page(browser)
    errors = page_errors(page)
    await page.goto(stack.url)
    assert blocking(await violations(page)) == [], "the sign-in page"

    await stack.call_initiated("axe-1", did=stack.demo.dids[0])
    await stack.call_status("axe-1", "answered", extension="101")
    await stack.call_initiated("axe-2", did=stack.demo.dids[1])
    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
    await expect(page.locator(CALL_ROWS)).to_have_count(2)
    await expect(page.get_by_test_id("extension").first).to_be_visible()
    assert blocking(await violations(page)) == [], "the live page"

    await page.get_by_test_id("nav-history").click()
    await expect(page.get_by_test_id("history-row").first).to_be_visible()
    await page.get_by_test_id("history-row").first.click()
    await expect(page.get_by_test_id("call-detail")).to_be_visible()
    assert blocking(await violations(page)) == [], "the history page with a call's detail"

    await page.get_by_test_id("nav-settings").click()
    await expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    assert blocking(await violations(page)) == [], "the settings page"
    assert errors == []
    await context.close()


async def test_the_history_filters_work_from_the_keyboard(stack: DashboardStack, browser: Browser) -> None:
    await stack.call_initiated("keys-1", did=stack.demo.dids[1], caller="+13125550900")
    await stack.call_status("keys-1", "busy")
    await stack.call_initiated("keys-2", did=stack.demo.dids[1], caller="+13125550901")
    context, page = await new_page(browser)
    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
    await page.goto(f"{stack.url}history")
    await expect(page.get_by_test_id("history-row")).to_have_count(2)
    number = page.get_by_label("Number")
    await number.focus()
    await page.keyboard.type("5550900")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("history-row")).to_have_count(1)
    row = page.get_by_test_id("history-row")
    await expect(row).to_have_attribute("data-call-id", "keys-1")
    # Tab reaches the row (or its button), and Enter opens the call's detail.
    for _ in range(40):
        await page.keyboard.press("Tab")
        inside = await page.evaluate("""() => !!document.activeElement?.closest('[data-testid="history-row"]')""")
        if inside:
            break
    else:
        pytest.fail("Tab never reached the history row")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("call-detail")).to_be_visible()
    await context.close()

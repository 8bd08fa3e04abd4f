"""The operator's live view in Chromium: ringing, the extensions board, call history, today's chart.

As in ``test_dashboard.py``, delays are measured and printed (``pytest -s``), never asserted.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from opbx.demo import DEMO_PASSWORD
from tests.dashboard.browser import (
    CALL_ROWS,
    debug,
    new_page,
    page_errors,
    sign_in_live,
    wait_for_seen,
)
from tests.dashboard.stack import ADMIN_EMAIL, ADMIN_NAME, DashboardStack
from tests.dashboard.test_dashboard import report

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ALEX = ("alex@demo.opbx", "Alex Agent")
"""An agent of the demo organization, extension 103."""


def extension(page: Page, number: str) -> Any:
    return page.locator(f'[data-testid="extension"][data-number="{number}"]')


async def board_numbers(page: Page) -> list[str]:
    numbers: list[str] = await page.get_by_test_id("extension").evaluate_all(
        "(cells) => cells.map((cell) => cell.getAttribute('data-number'))"
    )
    return numbers


async def test_ringing_shows_the_moment_the_webhook_lands(stack: DashboardStack, browser: Browser) -> None:
    context, page = await new_page(browser)
    errors = page_errors(page)
    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
    await stack.call_initiated("ring-1", did=stack.demo.dids[0])
    row = page.locator(f'{CALL_ROWS}[data-call-id="ring-1"]')
    await expect(row).to_have_attribute("data-status", "initiated")
    snapshots = (await debug(page))["snapshotsApplied"]

    ringing = await stack.call_status("ring-1", "ringing")
    assert ringing.answer["events"] == ["call.ringing"]
    await expect(row).to_have_attribute("data-status", "ringing")
    await expect(row.get_by_test_id("call-status")).to_contain_text("Ringing")
    shown = await wait_for_seen(page, "ring-1", "ringing")
    # Pushed, not polled: no snapshot was read between the webhook and the row.
    assert (await debug(page))["snapshotsApplied"] == snapshots
    assert errors == []
    report("webhook -> ringing row (ms)", ringing=shown - ringing.sent_ms)
    await context.close()


async def test_the_board_follows_a_call_and_who_is_signed_in(stack: DashboardStack, browser: Browser) -> None:
    context, page = await new_page(browser)
    errors = page_errors(page)
    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
    board = page.get_by_test_id("extensions-board")
    await expect(board.get_by_test_id("extension")).to_have_count(len(stack.demo.extensions))
    front_desk = extension(page, "101")  # the admin's own, and where the first number rings
    await expect(front_desk).to_have_attribute("data-state", "available")
    await expect(extension(page, "103")).to_have_attribute("data-state", "offline")

    await stack.call_initiated("board-1", did=stack.demo.dids[0], caller="+12025550177")
    await stack.call_status("board-1", "ringing")
    await expect(front_desk).to_have_attribute("data-state", "ringing")
    await expect(front_desk).to_contain_text("+12025550177")
    await stack.call_status("board-1", "answered", extension="101")
    await expect(front_desk).to_have_attribute("data-state", "on-call")
    await expect(front_desk).to_contain_text("+12025550177")
    await stack.call_status("board-1", "completed")
    await expect(front_desk).to_have_attribute("data-state", "available")

    # An agent signs in elsewhere: their extension turns available, and offline when they sign out.
    agent_context, agent = await new_page(browser)
    await sign_in_live(agent, stack.url, ALEX[0], DEMO_PASSWORD, ALEX[1])
    await expect(extension(page, "103")).to_have_attribute("data-state", "available")
    # The agent sees the whole board, their own extension first.
    await expect(agent.get_by_test_id("extension")).to_have_count(len(stack.demo.extensions))
    assert (await board_numbers(agent))[0] == "103"
    await agent.get_by_test_id("signout").click()
    await expect(extension(page, "103")).to_have_attribute("data-state", "offline")

    # The REST snapshot says the same as the live board.
    token = await stack.token()
    response = await stack.client.get("/api/v1/extensions/status", headers={"Authorization": f"Bearer {token}"})
    states = {row["number"]: row["state"] for row in response.json()["data"]}
    assert states["101"] == "available"
    assert states["103"] == "offline"
    assert errors == []
    await agent_context.close()
    await context.close()


async def _seed_history(stack: DashboardStack, count: int) -> None:
    """``count`` finished calls over the last days: a mix of outcomes and callers."""
    gate = asyncio.Semaphore(12)
    now = time.time()

    async def one(index: int) -> None:
        async with gate:
            call_id = f"hist-{index:04d}"
            start = now - 3 * 86400 + index * 600
            caller = f"+1312555{index % 40:04d}"
            await stack.call_initiated(call_id, did=stack.demo.dids[index % 3], caller=caller, at=start)
            ended = int((start + 30) * 1000)
            if index % 3 == 0:
                answered = int((start + 5) * 1000)
                await stack.call_status(call_id, "answered", extension="102", answerTime=answered, modifiedAt=answered)
                await stack.call_status(call_id, "completed", endTime=ended, modifiedAt=ended)
            else:
                outcome = "no-answer" if index % 3 == 1 else "busy"
                await stack.call_status(call_id, outcome, endTime=ended, modifiedAt=ended)

    await asyncio.gather(*(one(index) for index in range(count)))


async def history_ids(page: Page) -> list[str]:
    ids: list[str] = await page.get_by_test_id("history-row").evaluate_all(
        "(rows) => rows.map((row) => row.getAttribute('data-call-id'))"
    )
    return ids


async def api_calls(stack: DashboardStack, token: str, **filters: Any) -> dict[str, Any]:
    response = await stack.client.get("/api/v1/call-logs", params=filters, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_history_searches_by_number_and_status_and_keeps_the_filters_in_the_url(
    stack: DashboardStack, browser: Browser
) -> None:
    await _seed_history(stack, 300)
    token = await stack.token()
    context, page = await new_page(browser)
    errors = page_errors(page)
    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
    await page.get_by_test_id("nav-history").click()
    await expect(page).to_have_url(f"{stack.url}history")

    # The form: a number and a status; the URL then holds them under the API's own names.
    await page.get_by_label("Number").fill("5550007")
    await page.get_by_label("Status").select_option("no_answer")
    await page.get_by_role("button", name="Search").click()
    await page.wait_for_url("**/history?*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["search"] == ["5550007"]
    assert query["status"] == ["no_answer"]
    expected = await api_calls(stack, token, search="5550007", status="no_answer")
    assert expected["meta"]["total"] > 0
    rows = page.get_by_test_id("history-row")
    await expect(rows.first).to_be_visible()
    assert await history_ids(page) == [call["call_id"] for call in expected["data"]]
    for status in await rows.evaluate_all("(rows) => rows.map((row) => row.getAttribute('data-status'))"):
        assert status == "no_answer"

    # A shared link opens with its filters applied, and pages through the results.
    link = f"{stack.url}history?status=busy&direction=inbound"
    await page.goto(link)
    busy = await api_calls(stack, token, status="busy", direction="inbound")
    assert busy["meta"]["last_page"] > 1
    await expect(rows.first).to_have_attribute("data-call-id", busy["data"][0]["call_id"])
    assert await history_ids(page) == [call["call_id"] for call in busy["data"]]
    await page.get_by_role("button", name="Next page").click()
    second = await api_calls(stack, token, status="busy", direction="inbound", page=2)
    await expect(rows.first).to_have_attribute("data-call-id", second["data"][0]["call_id"])
    assert parse_qs(urlsplit(page.url).query)["page"] == ["2"]
    await page.go_back()
    await expect(rows.first).to_have_attribute("data-call-id", busy["data"][0]["call_id"])

    # A call's detail: its timeline and the provider's records.
    answered = (await api_calls(stack, token, status="completed"))["data"][0]["call_id"]
    await page.goto(f"{stack.url}history?status=completed")
    await page.locator(f'[data-testid="history-row"][data-call-id="{answered}"]').click()
    detail = page.get_by_test_id("call-detail")
    timeline = detail.get_by_test_id("timeline-entry")
    await expect(timeline).to_have_count(3)
    statuses = await timeline.evaluate_all("(items) => items.map((item) => item.getAttribute('data-status'))")
    assert statuses == ["initiated", "answered", "completed"]
    await expect(detail).to_contain_text("call-status")

    # A new call matching the filters appears at the top, live.
    await page.goto(f"{stack.url}history?search=2025559999")
    await expect(page.get_by_test_id("history-empty")).to_be_visible()
    await stack.call_initiated("hist-live", did=stack.demo.dids[1], caller="+12025559999")
    await expect(rows.first).to_have_attribute("data-call-id", "hist-live")
    assert errors == []
    await context.close()


async def test_the_chart_of_calls_per_hour_updates_when_a_call_ends(stack: DashboardStack, browser: Browser) -> None:
    context, page = await new_page(browser)
    errors = page_errors(page)
    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
    chart = page.get_by_test_id("calls-per-hour")
    await expect(chart).to_have_attribute("data-answered", "0")
    await expect(chart.locator("canvas").first).to_be_visible()

    await stack.call_initiated("chart-1", did=stack.demo.dids[0])
    await stack.call_status("chart-1", "answered", extension="101")
    await stack.call_status("chart-1", "completed")
    await expect(chart).to_have_attribute("data-answered", "1")
    await stack.call_initiated("chart-2", did=stack.demo.dids[1])
    await stack.call_status("chart-2", "no-answer")
    await expect(chart).to_have_attribute("data-missed", "1")
    await expect(chart).to_have_attribute("data-total", "2")
    assert errors == []
    await context.close()


PHONE: ViewportSize = {"width": 390, "height": 844}


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"


async def test_the_phone_layout(stack: DashboardStack, browser: Browser) -> None:
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = await context.new_page()
    errors = page_errors(page)
    await stack.call_initiated("phone-1", did=stack.demo.dids[0], caller="+12025550111")
    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
    await expect(page.locator(f'{CALL_ROWS}[data-call-id="phone-1"]')).to_be_visible()
    await expect(page.get_by_test_id("extensions-board")).to_be_visible()
    await expect(page.get_by_test_id("calls-per-hour")).to_be_visible()
    await no_sideways_scroll(page)

    await page.get_by_test_id("nav-history").click()
    await expect(page.get_by_test_id("history-row").first).to_be_visible()
    await no_sideways_scroll(page)
    await page.get_by_test_id("history-row").first.click()
    await expect(page.get_by_test_id("call-detail")).to_be_visible()
    await no_sideways_scroll(page)
    assert errors == []
    await context.close()

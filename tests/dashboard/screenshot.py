"""Take the docs' screenshots: the live page with its board and chart, history, the phone layout.

``docs/dashboard.png`` (the live page, 1280 wide, whole), ``docs/extensions-board.png``,
``docs/calls-chart.png``, ``docs/history.png`` (a filtered search with a call's detail open)
and ``docs/phone.png`` (390x844). Run from the repository root (after
``cd frontend && npm run build``)::

    .venv/bin/python -m tests.dashboard.screenshot [directory]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import uvloop
from playwright.async_api import async_playwright, expect

from opbx.demo import DEMO_PASSWORD
from tests.dashboard.browser import launch, new_page, sign_in_live
from tests.dashboard.stack import ADMIN_EMAIL, ADMIN_NAME, DashboardStack, start_stack

OUTPUT = Path(__file__).resolve().parents[2] / "docs"


async def _calls(stack: DashboardStack) -> None:
    """A morning's traffic: finished calls for the statistics, then the live ones."""
    now = time.time()
    dids = stack.demo.dids
    finished = [
        ("+14155550142", dids[0], "completed", "101"),
        ("+13125550187", dids[1], "completed", "103"),
        ("+16175550111", dids[2], "no-answer", None),
        ("+12065550175", dids[1], "completed", "104"),
        ("+17185550133", dids[2], "busy", None),
    ]
    for index, (caller, did, outcome, extension) in enumerate(finished):
        call_id = f"morning-{index}"
        start = now - 1800 + index * 240
        await stack.call_initiated(call_id, did=did, caller=caller, at=start)
        if extension is not None:
            answered = int((start + 12) * 1000)
            await stack.call_status(call_id, "answered", extension=extension, answerTime=answered, modifiedAt=answered)
        ended = int((start + 20 + 37 * (index + 1)) * 1000)
        await stack.call_status(call_id, outcome, endTime=ended, modifiedAt=ended)
    live = [
        ("+14155550199", dids[0], 312, "101", 298),
        ("+12125550160", dids[1], 185, "103", 171),
        ("+13105550128", dids[1], 96, "104", 90),
        ("+15035550147", dids[2], 41, "105", 33),
        ("+17735550102", dids[2], 23, None, None),
        ("+16465550190", dids[1], 9, None, None),
    ]
    for index, (caller, did, age, extension, talking) in enumerate(live):
        call_id = f"live-{index}"
        await stack.call_initiated(call_id, did=did, caller=caller, at=now - age)
        if talking is None:
            ringing = int((now - age + 2) * 1000)
            await stack.call_status(call_id, "ringing", modifiedAt=ringing)
        if extension is not None and talking is not None:
            answered = int((now - talking) * 1000)
            await stack.call_status(call_id, "answered", extension=extension, answerTime=answered, modifiedAt=answered)


async def main(output: Path) -> None:
    with tempfile.TemporaryDirectory() as directory:
        stack = await start_stack(Path(directory))
        try:
            await _calls(stack)
            async with async_playwright() as playwright:
                browser = await launch(playwright)
                try:
                    _, colleague = await new_page(browser)
                    await sign_in_live(colleague, stack.url, "alex@demo.opbx", DEMO_PASSWORD, "Alex Agent")
                    context = await browser.new_context(viewport={"width": 1280, "height": 800})
                    page = await context.new_page()
                    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
                    await expect(page.get_by_test_id("call-row")).to_have_count(6)
                    await expect(page.get_by_test_id("online-member")).to_have_count(2)
                    await expect(page.get_by_test_id("stat-answered")).not_to_have_text("0")
                    await expect(page.get_by_test_id("calls-per-hour")).not_to_have_attribute("data-total", "0")
                    await asyncio.sleep(1.5)  # durations tick, fonts settle
                    await page.screenshot(path=str(output / "dashboard.png"), full_page=True)
                    await page.get_by_test_id("extensions-board").screenshot(path=str(output / "extensions-board.png"))
                    await page.get_by_test_id("today-charts").screenshot(path=str(output / "calls-chart.png"))
                    await page.goto(f"{stack.url}history?direction=inbound")
                    await page.get_by_test_id("history-row").first.click()
                    await expect(page.get_by_test_id("call-detail")).to_be_visible()
                    await asyncio.sleep(0.5)
                    await page.screenshot(path=str(output / "history.png"), full_page=True)

                    phone = await browser.new_context(
                        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
                    )
                    small = await phone.new_page()
                    await sign_in_live(small, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
                    await expect(small.get_by_test_id("call-row")).to_have_count(6)
                    await asyncio.sleep(1.5)
                    await small.screenshot(path=str(output / "phone.png"))
                finally:
                    await browser.close()
        finally:
            await stack.close()
    print(f"wrote the screenshots in {output}")


if __name__ == "__main__":
    uvloop.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT))

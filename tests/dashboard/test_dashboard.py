"""The live dashboard in headless Chromium against the whole system (``opbx serve --demo``).

Delays and frame times are measured and printed (``pytest -s`` shows them), never asserted:
the assertions are about what the page shows.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from opbx.demo import DEMO_PASSWORD
from tests.dashboard.browser import (
    CALL_ROWS,
    FRAME_PROBE,
    WAIT_MS,
    all_arrived,
    all_seen,
    debug,
    new_page,
    page_errors,
    percentile,
    sign_in,
    sign_in_live,
    wait_for_seen,
)
from tests.dashboard.stack import ADMIN_EMAIL, ADMIN_NAME, DashboardStack, Posted

pytestmark = [pytest.mark.browser, pytest.mark.integration]

RECONNECT_WAIT_MS = 60_000
"""Backoff with jitter, capped at 30 s, and up to 5 s an attempt: the longest wait for ``live``."""


def report(title: str, **figures: Any) -> None:
    shown = ", ".join(
        f"{name}={value:.1f}" if isinstance(value, float) else f"{name}={value}" for name, value in figures.items()
    )
    print(f"\n[dashboard] {title}: {shown}", flush=True)


async def row_ids(page: Page) -> list[str]:
    ids: list[str] = await page.locator(CALL_ROWS).evaluate_all(
        "(rows) => rows.map((row) => row.getAttribute('data-call-id'))"
    )
    return ids


async def recent_ids(page: Page) -> list[str]:
    ids: list[str] = await page.get_by_test_id("recent-call").evaluate_all(
        "(rows) => rows.map((row) => row.getAttribute('data-call-id'))"
    )
    return ids


async def wait_for_state(page: Page, *states: str, timeout: float = WAIT_MS) -> str:
    """Wait until the connection indicator shows one of ``states``; return it."""
    handle = await page.wait_for_function(
        """(states) => {
            const state = document.querySelector('[data-testid="connection"]')?.getAttribute("data-state");
            return states.includes(state) ? state : null;
        }""",
        arg=list(states),
        timeout=timeout,
    )
    state: str = await handle.json_value()
    return state


async def test_sign_in_refuses_a_wrong_password_then_goes_live(stack: DashboardStack, browser: Browser) -> None:
    context, page = await new_page(browser)
    errors = page_errors(page)
    await page.goto(stack.url)
    await sign_in(page, stack.url, ADMIN_EMAIL, "not-the-password")
    await expect(page.get_by_test_id("login-error")).to_be_visible()
    await expect(page.get_by_test_id("current-user")).to_have_count(0)

    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
    await expect(page.get_by_test_id("login-error")).to_have_count(0)
    assert (await debug(page))["connectionState"] == "live"
    assert errors == []
    await context.close()


async def test_a_call_lives_and_ends_on_screen(stack: DashboardStack, browser: Browser) -> None:
    context, page = await new_page(browser)
    errors = page_errors(page)
    token = await stack.token()
    answered_before = (await stack.statistics(token))["answered"]
    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
    await expect(page.get_by_test_id("stat-answered")).to_have_text(str(answered_before))
    did = stack.demo.dids[1]

    initiated = await stack.call_initiated("browser-call-1", did=did, caller="+12025550123")
    row = page.locator(f'{CALL_ROWS}[data-call-id="browser-call-1"]')
    await expect(row).to_have_attribute("data-status", "initiated")
    shown_initiated = await wait_for_seen(page, "browser-call-1", "initiated")
    await expect(row.get_by_test_id("call-to")).to_have_text(did)
    await expect(row.get_by_test_id("call-from")).to_have_text("+12025550123")
    await expect(page.get_by_test_id("stat-active")).to_have_text("1")

    answered = await stack.call_status("browser-call-1", "answered", extension="102")
    await expect(row).to_have_attribute("data-status", "answered")
    await expect(row.get_by_test_id("call-answered-by")).to_contain_text("ext 102")
    await expect(row.get_by_test_id("call-answered-by")).to_contain_text("Sam Supervisor")
    shown_answered = await wait_for_seen(page, "browser-call-1", "answered")

    ended = await stack.call_status("browser-call-1", "completed")
    await expect(row).to_have_attribute("data-status", "completed")
    shown_ended = await wait_for_seen(page, "browser-call-1", "completed")
    await expect(row).to_have_count(0)  # after lingering ~3 s with its ended status
    await expect(page.locator('[data-testid="recent-call"][data-call-id="browser-call-1"]')).to_have_count(1)
    await expect(page.get_by_test_id("stat-answered")).to_have_text(str(answered_before + 1))
    await expect(page.get_by_test_id("stat-active")).to_have_text("0")
    assert errors == []
    report(
        "webhook -> row (ms)",
        initiated=shown_initiated - initiated.sent_ms,
        answered=shown_answered - answered.sent_ms,
        ended=shown_ended - ended.sent_ms,
    )
    await context.close()


async def test_members_appear_and_leave(stack: DashboardStack, browser: Browser) -> None:
    dana = await stack.add_user("Dana Dispatcher", "dana@demo.opbx", "dana-password")
    admin = (await stack.login())["user"]["id"]
    context, page = await new_page(browser)
    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
    await expect(page.locator(f'[data-testid="online-member"][data-user-id="{admin}"]')).to_have_count(1)
    member = page.locator(f'[data-testid="online-member"][data-user-id="{dana}"]')
    await expect(member).to_have_count(0)

    other, second = await new_page(browser)
    started = time.monotonic()
    await sign_in_live(second, stack.url, "dana@demo.opbx", "dana-password", "Dana Dispatcher")
    await expect(member).to_have_count(1)
    await expect(member).to_contain_text("Dana Dispatcher")
    joined = time.monotonic() - started
    await expect(second.locator(f'[data-testid="online-member"][data-user-id="{admin}"]')).to_have_count(1)

    started = time.monotonic()
    await second.get_by_test_id("signout").click()
    await expect(second.get_by_test_id("login-email")).to_be_visible()
    await expect(member).to_have_count(0)
    left_by_signout = time.monotonic() - started

    await sign_in_live(second, stack.url, "dana@demo.opbx", "dana-password", "Dana Dispatcher")
    await expect(member).to_have_count(1)
    started = time.monotonic()
    await other.close()
    await expect(member).to_have_count(0)
    left_by_closing = time.monotonic() - started
    await expect(page.get_by_test_id("online-member")).to_have_count(1)
    report("presence (s)", sign_in_to_shown=joined, signout_to_gone=left_by_signout, close_to_gone=left_by_closing)
    await context.close()


async def test_an_outage_falls_back_to_polling_and_resyncs(stack: DashboardStack, browser: Browser) -> None:
    context, page = await new_page(browser)
    errors = page_errors(page)
    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)

    def row(call_id: str) -> Locator:
        return page.locator(f'{CALL_ROWS}[data-call-id="{call_id}"]')

    await stack.call_initiated("before-cut")
    await stack.call_status("before-cut", "answered", extension="103")
    await stack.call_initiated("survivor")
    await expect(row("before-cut")).to_have_attribute("data-status", "answered")
    await expect(row("survivor")).to_have_attribute("data-status", "initiated")

    cut_at = time.monotonic()
    await stack.proxy.cut()
    left = await wait_for_state(page, "reconnecting", "polling", "offline")
    noticed = time.monotonic() - cut_at
    assert left in ("reconnecting", "polling")
    await expect(page.get_by_test_id("reconnect-countdown")).to_be_visible()

    during = await stack.call_initiated("during-cut")
    await expect(row("during-cut")).to_have_count(1)  # by polling /call-logs/active
    polled = await wait_for_seen(page, "during-cut", "initiated") - during.sent_ms
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "polling")
    await stack.call_status("before-cut", "completed")
    await stack.call_initiated("short-lived")
    await stack.call_status("short-lived", "busy")
    await expect(row("before-cut")).to_have_count(0)  # the next poll's snapshot drops it
    outage = time.monotonic() - cut_at

    restored_at = time.monotonic()
    await stack.proxy.restore()
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live", timeout=RECONNECT_WAIT_MS)
    reconnected = time.monotonic() - restored_at
    await expect(page.get_by_test_id("reconnect-countdown")).to_have_count(0)
    for call_id in ("before-cut", "short-lived"):
        await expect(row(call_id)).to_have_count(0)
    ids = await row_ids(page)
    assert sorted(ids) == ["during-cut", "survivor"]
    recent = await recent_ids(page)
    assert len(recent) == len(set(recent)), recent
    await expect(page.get_by_test_id("stat-active")).to_have_text("2")

    applied = (await debug(page))["eventsApplied"]
    await stack.call_status("during-cut", "answered", extension="104")
    await stack.call_initiated("after-reconnect")
    await expect(row("during-cut")).to_have_attribute("data-status", "answered")
    await expect(row("after-reconnect")).to_have_attribute("data-status", "initiated")
    await page.wait_for_function("(n) => window.__opbxDashboard.eventsApplied >= n", arg=applied + 2)
    assert (await debug(page))["connectionState"] == "live"
    ids = await row_ids(page)
    assert sorted(ids) == ["after-reconnect", "during-cut", "survivor"]
    assert errors == []
    report(
        "outage (s)",
        cut_to_not_live=noticed,
        call_during_cut_shown_ms=polled,
        outage=outage,
        restore_to_live=reconnected,
    )
    await context.close()


SEEDED = 200
BOARD = 30
RATE = 50.0
SECONDS = 10.0


async def test_the_dashboard_keeps_up_with_200_calls_30_extensions_and_50_events_a_second(
    stack: DashboardStack, browser: Browser
) -> None:
    # 30 extensions on the board: the demo's five and 25 agents' (signed out: offline).
    numbers = list(stack.demo.extensions)
    for index in range(BOARD - len(numbers)):
        number = str(201 + index)
        await stack.add_user(f"Load Agent {index}", f"load{index}@demo.opbx", DEMO_PASSWORD, extension=number)
        numbers.append(number)
    extensions = itertools.cycle(numbers)
    dids = itertools.cycle(stack.demo.dids)
    # Queues, not deques: on a slow machine an answer may be due before the call it answers
    # has been applied; it then waits for one instead of failing the test.
    ringing: asyncio.Queue[str] = asyncio.Queue()
    talking: asyncio.Queue[str] = asyncio.Queue()
    gate = asyncio.Semaphore(16)

    async def seed(index: int) -> None:
        async with gate:
            call_id = f"seed-{index:03d}"
            await stack.call_initiated(call_id, did=next(dids))
            if index % 2:
                await stack.call_status(call_id, "answered", extension=next(extensions))
                talking.put_nowait(call_id)
            else:
                ringing.put_nowait(call_id)

    await asyncio.gather(*(seed(index) for index in range(SEEDED)))
    context, page = await new_page(browser)
    errors = page_errors(page)
    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
    await expect(page.locator(CALL_ROWS)).to_have_count(SEEDED)
    await expect(page.get_by_test_id("extensions-board").get_by_test_id("extension")).to_have_count(BOARD)

    await page.evaluate(FRAME_PROBE)
    await asyncio.sleep(2)
    idle = await page.evaluate("() => window.__opbxFrames.stop()")

    posted: list[Posted] = []
    new_calls = itertools.count()

    async def one_event(kind: int) -> None:
        if kind == 0:
            call_id = f"load-{next(new_calls):04d}"
            posted.append(await stack.call_initiated(call_id, did=next(dids)))
            ringing.put_nowait(call_id)
        elif kind == 1:
            call_id = await ringing.get()
            posted.append(await stack.call_status(call_id, "answered", extension=next(extensions)))
            talking.put_nowait(call_id)
        else:
            call_id = await talking.get()
            posted.append(await stack.call_status(call_id, "completed"))

    applied_before = (await debug(page))["eventsApplied"]
    await page.evaluate(FRAME_PROBE)
    loop = asyncio.get_running_loop()
    started = loop.time()
    tasks: list[asyncio.Task[None]] = []
    for index in range(int(RATE * SECONDS)):
        delay = started + index / RATE - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(one_event(index % 3)))
    await asyncio.gather(*tasks)
    sent_in = loop.time() - started
    busy = await page.evaluate("() => window.__opbxFrames.stop()")

    broadcasts = sum(post.broadcasts for post in posted)
    token = await stack.token()
    latest = await stack.latest_seq(token)
    # Caught up: the page has applied the organization's latest event, one way or another (an
    # event, or a snapshot re-read on a gap, which holds the events it covers).
    await page.wait_for_function("(seq) => window.__opbxDashboard.appliedSeq >= seq", arg=latest, timeout=30_000)
    applied = (await debug(page))["eventsApplied"] - applied_before
    active = await stack.active_call_ids(token)
    await expect(page.locator(CALL_ROWS)).to_have_count(len(active))  # once the ended ones are pruned
    assert sorted(await row_ids(page)) == sorted(active)
    await expect(page.get_by_test_id("stat-active")).to_have_text(str(len(active)))
    snapshots = (await debug(page))["snapshotsApplied"]
    assert applied <= broadcasts  # never one twice
    assert applied == broadcasts or snapshots > 1  # and each one applied, unless a re-read held it
    assert (await debug(page))["connectionState"] == "live"
    assert errors == []

    seen = await all_seen(page)
    arrived = await all_arrived(page)
    # Rows a call event put there (not a snapshot read before the event came): the page's own share.
    on_page = [seen[key] - arrived[key] for key in seen.keys() & arrived.keys() if seen[key] >= arrived[key]]
    delays = [
        seen[f"{post.call_id}|{post.status}"] - post.sent_ms
        for post in posted
        if f"{post.call_id}|{post.status}" in seen
    ]
    for name, frames in (("idle", idle), ("load", busy)):
        deltas: list[float] = frames["deltas"]
        report(
            f"frames {name} (ms)",
            frames=len(deltas),
            p50=percentile(deltas, 0.5),
            p95=percentile(deltas, 0.95),
            max=max(deltas),
            over_50ms=sum(1 for delta in deltas if delta > 50),
            long_tasks=frames["longTasks"],
            long_task_ms=float(frames["longTaskMs"]),
            longest_task=float(frames["longestTask"]),
            long_animation_frames=frames["longFrames"],
            longest_animation_frame=float(frames["longestFrame"]),
        )
    report(
        "load",
        webhooks=len(posted),
        seconds=sent_in,
        rate=len(posted) / sent_in,
        broadcasts=broadcasts,
        applied=applied,
        snapshots=(await debug(page))["snapshotsApplied"],
        active_after=len(active),
    )
    report(
        "webhook -> row under load (ms)",
        measured=len(delays),
        p50=percentile(delays, 0.5),
        p95=percentile(delays, 0.95),
        max=max(delays),
    )
    if on_page:  # none when every row of the load came by a snapshot
        report(
            "socket -> row under load (ms)",
            measured=len(on_page),
            p50=percentile(on_page, 0.5),
            p95=percentile(on_page, 0.95),
            max=max(on_page),
        )
    await context.close()

"""Debian's Chromium under Playwright, and what the tests read in the page."""

from __future__ import annotations

import math
from typing import Any

from playwright.async_api import Browser, BrowserContext, Locator, Page, Playwright, ViewportSize, expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CALL_ROWS = '[data-testid="call-row"]'
"""The active calls' rows (``data-call-id``, ``data-status``)."""
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
WAIT_MS = 20_000
"""Generous: the default wait for something the dashboard should show."""
expect.set_options(timeout=WAIT_MS)

# Installed before the app runs: the wall-clock time (ms) each (call, status) first shows up
# as an active call row (data-testid="call-row"), so the tests can record webhook → screen delays.
_OBSERVER = """
(() => {
  const seen = {};
  const arrived = {};
  window.__opbxTest = { seen, arrived };
  const now = () => performance.timeOrigin + performance.now();
  // And when each call event's frame reached the page's WebSocket (before pusher-js read it):
  // row time minus this is the page's own share of the delay.
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (message) => {
        const at = now();
        try {
          const frame = JSON.parse(message.data);
          if (typeof frame.event !== "string" || !frame.event.startsWith("call.")) return;
          const data = typeof frame.data === "string" ? JSON.parse(frame.data) : frame.data;
          const status = frame.event === "call.ended" ? data.status : frame.event.slice(5);
          const key = data.call_id + "|" + status;
          if (!(key in arrived)) arrived[key] = at;
        } catch (error) { /* not a call event */ }
      });
    }
  };
  const note = (el) => {
    if (el.nodeType !== 1 || el.getAttribute("data-testid") !== "call-row") return;
    const key = el.getAttribute("data-call-id") + "|" + el.getAttribute("data-status");
    if (!(key in seen)) seen[key] = now();
  };
  const start = () => new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes") { note(record.target); continue; }
      for (const node of record.addedNodes) {
        if (node.nodeType !== 1) continue;
        note(node);
        node.querySelectorAll('[data-testid="call-row"]').forEach(note);
      }
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"] });
  if (document.documentElement) start(); else document.addEventListener("DOMContentLoaded", start);
})();
"""

FRAME_PROBE = """
() => {
  const probe = { deltas: [], longTasks: 0, longTaskMs: 0, longestTask: 0, longFrames: 0, longestFrame: 0,
                  running: true };
  const tasks = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      probe.longTasks += 1;
      probe.longTaskMs += entry.duration;
      probe.longestTask = Math.max(probe.longestTask, entry.duration);
    }
  });
  tasks.observe({ type: "longtask" });
  const frames = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      probe.longFrames += 1;
      probe.longestFrame = Math.max(probe.longestFrame, entry.duration);
    }
  });
  frames.observe({ type: "long-animation-frame" });
  let last = null;
  const tick = (t) => {
    if (!probe.running) return;
    if (last !== null) probe.deltas.push(t - last);
    last = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  probe.stop = () => {
    probe.running = false;
    tasks.disconnect();
    frames.disconnect();
    const { running, stop, ...figures } = probe;
    return figures;
  };
  window.__opbxFrames = probe;
}
"""
"""Frame timing: requestAnimationFrame deltas, long tasks (main-thread tasks over 50 ms) and long
animation frames (frames whose work took over 50 ms), from now until ``__opbxFrames.stop()``."""


async def launch(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


async def new_page(browser: Browser) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=VIEWPORT)
    await context.add_init_script(_OBSERVER)
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    return context, page


def page_errors(page: Page) -> list[str]:
    """Uncaught exceptions in the page, collected from now on."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


async def sign_in(page: Page, url: str, email: str, password: str) -> None:
    """Fill in and submit the sign-in form (the caller checks what comes of it)."""
    if page.url != url:
        await page.goto(url)
    await page.get_by_test_id("login-email").fill(email)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()


async def sign_in_live(page: Page, url: str, email: str, password: str, name: str) -> None:
    await sign_in(page, url, email, password)
    await expect(page.get_by_test_id("current-user")).to_contain_text(name, timeout=WAIT_MS)
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live", timeout=WAIT_MS)


async def debug(page: Page) -> dict[str, Any]:
    """``window.__opbxDashboard``: eventsApplied, snapshotsApplied, connectionState."""
    values: dict[str, Any] = await page.evaluate("() => ({ ...window.__opbxDashboard })")
    return values


async def seen_at(page: Page, call_id: str, status: str) -> float | None:
    """When (wall clock, ms) the row of ``call_id`` first showed ``status``; None if it never did."""
    value: float | None = await page.evaluate("(key) => window.__opbxTest.seen[key] ?? null", f"{call_id}|{status}")
    return value


async def all_seen(page: Page) -> dict[str, float]:
    values: dict[str, float] = await page.evaluate("() => ({ ...window.__opbxTest.seen })")
    return values


async def all_arrived(page: Page) -> dict[str, float]:
    """When (wall clock, ms) each call event reached the page's WebSocket, by ``call id|status``."""
    values: dict[str, float] = await page.evaluate("() => ({ ...window.__opbxTest.arrived })")
    return values


async def wait_for_seen(page: Page, call_id: str, status: str) -> float:
    await page.wait_for_function("(key) => key in window.__opbxTest.seen", arg=f"{call_id}|{status}", timeout=WAIT_MS)
    moment = await seen_at(page, call_id, status)
    assert moment is not None
    return moment


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# Installed before the app runs: every change of the connection indicator's data-state, with the
# wall-clock time (ms) it showed up, so a test can tell what the page said during an outage.
STATE_RECORDER = """
(() => {
  const states = [];
  window.__opbxStates = states;
  let last;
  const check = () => {
    const el = document.querySelector('[data-testid="connection"]');
    const state = el ? el.getAttribute("data-state") : null;
    if (state === last) return;
    last = state;
    states.push({ state, at: performance.timeOrigin + performance.now() });
  };
  const start = () => new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"],
  });
  if (document.documentElement) start(); else document.addEventListener("DOMContentLoaded", start);
})();
"""


async def record_states(context: BrowserContext) -> None:
    """Record the connection indicator's states in the context's pages from their next navigation on."""
    await context.add_init_script(STATE_RECORDER)


async def state_log(page: Page) -> list[tuple[str | None, float]]:
    """The connection indicator's states so far (``record_states``): (data-state or None, wall-clock ms)."""
    entries: list[dict[str, Any]] = await page.evaluate("() => [...(window.__opbxStates ?? [])]")
    return [(entry["state"], float(entry["at"])) for entry in entries]


async def _rows(rows: Locator) -> list[tuple[str, str]]:
    pairs: list[list[str]] = await rows.evaluate_all(
        "(rows) => rows.map((row) => [row.getAttribute('data-call-id'), row.getAttribute('data-status')])"
    )
    return [(call_id, status) for call_id, status in pairs]


async def active_rows(page: Page) -> list[tuple[str, str]]:
    """The active-call rows as (call id, data-status), in page order."""
    return await _rows(page.locator(CALL_ROWS))


async def recent_rows(page: Page) -> list[tuple[str, str]]:
    """The recent-call rows as (call id, data-status), in page order."""
    return await _rows(page.get_by_test_id("recent-call"))

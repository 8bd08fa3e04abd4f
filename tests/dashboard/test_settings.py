"""The admin Settings page in headless Chromium against the whole system (``opbx serve --demo``).

Every change is made through the page and checked on the page, and where it matters (sign-in,
webhook signatures) against the running API too. Assertions are about what the page shows,
never about timings.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from opbx.demo import DEMO_PASSWORD
from opbx.telephony.ingest import sign_body
from tests.dashboard.browser import new_page, page_errors, sign_in, sign_in_live
from tests.dashboard.stack import ADMIN_EMAIL, ADMIN_NAME, DashboardStack

pytestmark = [pytest.mark.browser, pytest.mark.integration]

AGENT_EMAIL = "alex@demo.opbx"
AGENT_NAME = "Alex Agent"
WEBHOOK_KINDS = ("call-initiated", "call-status", "cdr")


async def open_settings(browser: Browser, stack: DashboardStack) -> tuple[BrowserContext, Page, list[str]]:
    """The demo admin, signed in, on Settings reached through the header's link."""
    context, page = await new_page(browser)
    errors = page_errors(page)
    await sign_in_live(page, stack.url, ADMIN_EMAIL, DEMO_PASSWORD, ADMIN_NAME)
    await page.get_by_test_id("nav-settings").click()
    await expect(page.get_by_test_id("settings-users")).to_be_visible()
    assert page.url == f"{stack.url}settings"
    return context, page, errors


def user_row(page: Page, email: str) -> Locator:
    return page.get_by_test_id("user-row").filter(has=page.get_by_test_id("user-email").get_by_text(email, exact=True))


def extension_row(page: Page, number: str) -> Locator:
    return page.locator(f'[data-testid="extension-row"][data-number="{number}"]')


def did_row(page: Page, phone_number: str) -> Locator:
    return page.locator(f'[data-testid="did-row"][data-number="{phone_number}"]')


async def invite(page: Page, name: str, email: str, role: str, password: str) -> None:
    await page.get_by_test_id("invite-name").fill(name)
    await page.get_by_test_id("invite-email").fill(email)
    await page.get_by_test_id("invite-role").select_option(role)
    await page.get_by_test_id("invite-password").fill(password)
    await page.get_by_test_id("invite-submit").click()


async def api_get(stack: DashboardStack, path: str) -> Any:
    """``GET /api/v1{path}``'s data, as the demo admin."""
    token = await stack.token()
    response = await stack.client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def post_signed(stack: DashboardStack, secret: str, call_id: str) -> httpx.Response:
    """A ``call-initiated`` webhook for the demo organization signed with ``secret``."""
    raw = orjson.dumps(
        {
            "call_id": call_id,
            "from": "+12025550199",
            "to": stack.demo.dids[1],
            "did": stack.demo.dids[1],
            "direction": "inbound",
            "status": "initiated",
        }
    )
    headers = {"Content-Type": "application/json", "X-Cloudonix-Signature": sign_body(secret, raw)}
    return await stack.client.post(
        f"/webhooks/cloudonix/call-initiated?org={stack.demo.id}", content=raw, headers=headers
    )


async def test_settings_and_live_share_the_header_and_follow_back_and_forward(
    stack: DashboardStack, browser: Browser
) -> None:
    context, page, errors = await open_settings(browser, stack)
    await expect(page.get_by_test_id("nav-settings")).to_have_attribute("aria-current", "page")
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    await expect(page.get_by_test_id("current-user")).to_contain_text(ADMIN_NAME)
    await expect(page.get_by_test_id("signout")).to_be_visible()
    for section in ("settings-users", "settings-extensions", "settings-numbers", "settings-webhooks"):
        await expect(page.get_by_test_id(section)).to_be_visible()
    await expect(page.get_by_test_id("user-row")).to_have_count(len(stack.demo.emails))
    await expect(page.get_by_test_id("extension-row")).to_have_count(len(stack.demo.extensions))
    await expect(page.get_by_test_id("did-row")).to_have_count(len(stack.demo.dids))
    await expect(page.get_by_test_id("stat-active")).to_have_count(0)

    await page.go_back()
    await expect(page.get_by_test_id("stat-active")).to_be_visible()
    await expect(page.get_by_test_id("settings-page")).to_have_count(0)
    await expect(page.get_by_test_id("nav-live")).to_have_attribute("aria-current", "page")
    assert page.url == stack.url
    await page.go_forward()
    await expect(page.get_by_test_id("settings-users")).to_be_visible()

    # A call while on Settings: the realtime connection stayed up, the live page has it.
    await stack.call_initiated("while-in-settings")
    await page.get_by_test_id("nav-live").click()
    await expect(page.locator('[data-testid="call-row"][data-call-id="while-in-settings"]')).to_have_count(1)
    assert page.url == stack.url

    # A reload (or a link) straight to /settings lands on Settings; a path that is no page says so.
    await page.goto(f"{stack.url}settings")
    await expect(page.get_by_test_id("settings-users")).to_be_visible()
    await page.goto(f"{stack.url}no-such-page")
    await expect(page.get_by_test_id("page-not-found")).to_be_visible()
    await expect(page.get_by_test_id("connection")).to_be_visible()
    assert errors == []
    await context.close()


async def test_an_admin_invites_a_user_who_signs_in_and_changes_roles(stack: DashboardStack, browser: Browser) -> None:
    context, page, errors = await open_settings(browser, stack)
    users = page.get_by_test_id("settings-users")

    await invite(page, "Dana Dispatcher", "dana@demo.opbx", "agent", "short")
    error = users.get_by_test_id("settings-error")
    await expect(error).to_contain_text("Weak password")
    await expect(error).to_contain_text("at least 10 characters")  # the rule, from the API
    await expect(user_row(page, "dana@demo.opbx")).to_have_count(0)

    await page.get_by_test_id("invite-password").fill("dana-dispatch-2025")
    await page.get_by_test_id("invite-submit").click()
    dana = user_row(page, "dana@demo.opbx")
    await expect(dana).to_have_count(1)
    await expect(dana.get_by_test_id("user-name")).to_have_text("Dana Dispatcher")
    await expect(dana.get_by_test_id("user-role")).to_have_value("agent")
    await expect(dana.get_by_test_id("user-status")).to_have_text("Active")
    await expect(users.get_by_test_id("settings-error")).to_have_count(0)
    await expect(page.get_by_test_id("invite-name")).to_have_value("")

    # The same email twice: the API's refusal, inline.
    await invite(page, "Dana Again", "dana@demo.opbx", "agent", "another-password-1")
    await expect(users.get_by_test_id("settings-error")).to_contain_text("already exists")

    other, second = await new_page(browser)
    second_errors = page_errors(second)
    await sign_in_live(second, stack.url, "dana@demo.opbx", "dana-dispatch-2025", "Dana Dispatcher")
    await expect(second.get_by_test_id("nav-live")).to_be_visible()
    await expect(second.get_by_test_id("nav-settings")).to_have_count(0)
    await other.close()

    await dana.get_by_test_id("user-role").select_option("supervisor")
    await expect(dana).to_have_attribute("data-role", "supervisor")
    dana_id = await dana.get_attribute("data-user-id")
    assert {user["id"]: user["role"] for user in await api_get(stack, "/users")}[int(dana_id or 0)] == "supervisor"

    # The last active admin cannot demote themself: the API's rule, shown inline; the role stays.
    ada = user_row(page, ADMIN_EMAIL)
    await expect(ada.get_by_test_id("user-disable")).to_be_disabled()
    await ada.get_by_test_id("user-role").select_option("agent")
    await expect(users.get_by_test_id("settings-error")).to_contain_text("last active admin")
    await expect(ada.get_by_test_id("user-role")).to_have_value("admin")
    await expect(page.get_by_test_id("nav-settings")).to_be_visible()
    assert errors == []
    assert second_errors == []
    await context.close()


async def test_a_disabled_user_cannot_sign_in_until_enabled(stack: DashboardStack, browser: Browser) -> None:
    context, page, errors = await open_settings(browser, stack)
    alex = user_row(page, AGENT_EMAIL)
    await alex.get_by_test_id("user-disable").click()
    await expect(alex).to_have_attribute("data-disabled", "true")
    await expect(alex.get_by_test_id("user-status")).to_have_text("Disabled")

    other, second = await new_page(browser)
    await sign_in(second, stack.url, AGENT_EMAIL, DEMO_PASSWORD)
    await expect(second.get_by_test_id("login-error")).to_contain_text("disabled")
    await expect(second.get_by_test_id("current-user")).to_have_count(0)

    await alex.get_by_test_id("user-enable").click()
    await expect(alex.get_by_test_id("user-status")).to_have_text("Active")
    await sign_in_live(second, stack.url, AGENT_EMAIL, DEMO_PASSWORD, AGENT_NAME)
    assert errors == []
    await other.close()
    await context.close()


async def test_an_admin_creates_and_assigns_an_extension_and_routes_a_new_number_to_it(
    stack: DashboardStack, browser: Browser
) -> None:
    context, page, errors = await open_settings(browser, stack)
    extensions = page.get_by_test_id("settings-extensions")
    numbers = page.get_by_test_id("settings-numbers")

    await page.get_by_test_id("extension-new-number").fill("110")
    await page.get_by_test_id("extension-submit").click()
    extension = extension_row(page, "110")
    await expect(extension).to_have_count(1)
    await expect(extension.get_by_test_id("extension-user")).to_have_value("")  # Nobody
    await extension.get_by_test_id("extension-user").select_option(label=AGENT_NAME)
    alex_id = await user_row(page, AGENT_EMAIL).get_attribute("data-user-id")
    await expect(extension).to_have_attribute("data-user-id", str(alex_id))

    # A taken extension number is refused inline.
    await page.get_by_test_id("extension-new-number").fill("110")
    await page.get_by_test_id("extension-submit").click()
    await expect(extensions.get_by_test_id("settings-error")).to_contain_text("already exists")

    # An invalid number: the API's E.164 rule, inline; nothing registered.
    await page.get_by_test_id("did-new-number").fill("5550100400")
    await page.get_by_test_id("did-submit").click()
    await expect(numbers.get_by_test_id("settings-error")).to_contain_text("E.164")
    await expect(page.get_by_test_id("did-row")).to_have_count(len(stack.demo.dids))

    await page.get_by_test_id("did-new-number").fill("+1 555 010 0400")  # spaces are dropped
    await page.get_by_test_id("did-submit").click()
    number = did_row(page, "+15550100400")
    await expect(number).to_have_count(1)
    await expect(numbers.get_by_test_id("settings-error")).to_have_count(0)
    await number.get_by_test_id("did-extension").select_option(label=f"110 · {AGENT_NAME}")
    extension_id = await extension.get_attribute("data-extension-id")
    await expect(number).to_have_attribute("data-extension-id", str(extension_id))

    # Routed numbers keep their extension: deleting it is refused with the API's reason.
    await extension.get_by_test_id("extension-delete").click()
    await extension.get_by_test_id("extension-delete-confirm").click()
    await expect(extensions.get_by_test_id("settings-error")).to_contain_text("+15550100400")
    await expect(extension).to_have_count(1)

    # What the API holds, and what a reload shows.
    dids = {did["phone_number"]: did for did in await api_get(stack, "/dids")}
    assert dids["+15550100400"]["extension_id"] == int(extension_id or 0)
    exts = {ext["number"]: ext for ext in await api_get(stack, "/extensions")}
    assert exts["110"]["user_id"] == int(alex_id or 0)
    await page.reload()
    await expect(did_row(page, "+15550100400").get_by_test_id("did-extension")).to_have_value(str(extension_id))
    await expect(extension_row(page, "110").get_by_test_id("extension-user")).to_have_value(str(alex_id))

    # Unroute, then both can go.
    await did_row(page, "+15550100400").get_by_test_id("did-extension").select_option("")
    await expect(did_row(page, "+15550100400")).to_have_attribute("data-extension-id", "")
    await did_row(page, "+15550100400").get_by_test_id("did-delete").click()
    await did_row(page, "+15550100400").get_by_test_id("did-delete-confirm").click()
    await expect(did_row(page, "+15550100400")).to_have_count(0)
    await extension_row(page, "110").get_by_test_id("extension-delete").click()
    await extension_row(page, "110").get_by_test_id("extension-delete-confirm").click()
    await expect(extension_row(page, "110")).to_have_count(0)
    assert errors == []
    await context.close()


async def test_webhook_urls_and_rotating_the_secret(stack: DashboardStack, browser: Browser) -> None:
    context, page, errors = await open_settings(browser, stack)
    await context.grant_permissions(["clipboard-read", "clipboard-write"])
    origin = stack.url.rstrip("/")
    for kind in WEBHOOK_KINDS:
        field = page.locator(f'[data-testid="webhook-url"][data-kind="{kind}"]')
        await expect(field).to_have_value(f"{origin}/webhooks/cloudonix/{kind}?org={stack.demo.id}")
        await expect(field).to_have_attribute("readonly", "")
    await page.locator('[data-testid="webhook-copy"][data-kind="cdr"]').click()
    await expect(page.locator('[data-testid="webhook-copy"][data-kind="cdr"]')).to_have_text("Copied")
    copied = await page.evaluate("() => navigator.clipboard.readText()")
    assert copied == f"{origin}/webhooks/cloudonix/cdr?org={stack.demo.id}"

    # Cancelling the confirm step changes nothing.
    await page.get_by_test_id("rotate-secret").click()
    await page.get_by_test_id("rotate-cancel").click()
    await expect(page.get_by_test_id("new-secret")).to_have_count(0)
    assert (await post_signed(stack, stack.demo.webhook_secret, "still-old-secret")).status_code == 200

    await page.get_by_test_id("rotate-secret").click()
    await expect(page.get_by_test_id("rotate-confirm")).to_be_visible()
    await expect(page.get_by_test_id("new-secret")).to_have_count(0)
    await page.get_by_test_id("rotate-confirm").click()
    await expect(page.get_by_test_id("secret-warning")).to_contain_text("Update Cloudonix now")
    secret = await page.get_by_test_id("new-secret").input_value()
    assert secret
    assert secret != stack.demo.webhook_secret

    await page.get_by_test_id("new-secret-copy").click()
    await expect(page.get_by_test_id("new-secret-copy")).to_have_text("Copied")
    assert await page.evaluate("() => navigator.clipboard.readText()") == secret

    old = await post_signed(stack, stack.demo.webhook_secret, "signed-with-old-secret")
    assert old.status_code == 401, old.text
    new = await post_signed(stack, secret, "signed-with-new-secret")
    assert new.status_code == 200, new.text
    assert new.json()["outcome"] == "applied"

    # Shown once: hidden when done, and not to be had from the API again.
    await page.get_by_test_id("new-secret-done").click()
    await expect(page.get_by_test_id("new-secret")).to_have_count(0)
    assert "webhook_secret" not in await api_get(stack, "/organization")
    assert errors == []
    await context.close()


async def test_an_agent_has_no_settings(stack: DashboardStack, browser: Browser) -> None:
    context, page = await new_page(browser)
    errors = page_errors(page)
    await sign_in_live(page, stack.url, AGENT_EMAIL, DEMO_PASSWORD, AGENT_NAME)
    await expect(page.get_by_test_id("nav-live")).to_be_visible()
    await expect(page.get_by_test_id("nav-settings")).to_have_count(0)

    await page.goto(f"{stack.url}settings")
    message = page.get_by_test_id("settings-admins-only")
    await expect(message).to_contain_text("Only admins can change settings")
    await expect(page.get_by_test_id("settings-users")).to_have_count(0)
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    await expect(page.get_by_test_id("signout")).to_be_visible()
    assert errors == []
    await context.close()

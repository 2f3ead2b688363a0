"""The citizen's status page on a phone: live position, the call with its counter, 404, RTL, a11y."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, describe, screenshot

pytestmark = pytest.mark.slow

PHONE = {"width": 360, "height": 740}
# Records what the page asks of the phone: vibrations and generated tones (no real hardware in the test).
RECORD_ALERTS = """
window.__vibrations = [];
navigator.vibrate = (pattern) => { window.__vibrations.push(pattern); return true; };
window.__tones = 0;
const makeOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__tones += 1; return makeOscillator.call(this); };
"""


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(viewport=PHONE, locale="de-DE", has_touch=True, is_mobile=True)
    ctx.add_init_script(RECORD_ALERTS)
    yield ctx
    ctx.close()


def open_status(phone, ticket: dict):
    page = phone.new_page()
    page.goto(ticket["status_url"])
    expect(page.locator("body[data-live=connected]")).to_be_attached(timeout=10_000)
    return page


def assert_no_horizontal_overflow(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"horizontal overflow: scrollWidth {widths[0]} > clientWidth {widths[1]}"


def test_unknown_ticket_gets_a_404_page(live_server, phone):
    assert requests.get(f"{live_server.url}/t/no-such-ticket", timeout=10).status_code == 404
    page = phone.new_page()
    response = page.goto(f"{live_server.url}/t/no-such-ticket")
    assert response.status == 404
    expect(page.locator("h1")).to_be_visible()


def test_status_page_follows_the_ticket_until_it_is_called(live_server, phone):
    live_server.issue("ausweis")
    mine = live_server.issue("ausweis")
    page = open_status(phone, mine)
    expect(page.locator("#code")).to_have_text(mine["code"])
    expect(page.locator(".office")).to_have_text("Bürgerbüro Mitte")
    expect(page.locator("#main")).to_have_attribute("data-state", "waiting")
    expect(page.locator("#ahead")).to_have_text("1")
    expect(page.locator("#estimate")).not_to_be_empty()
    expect(page.locator("#counter")).to_be_hidden()
    assert page.locator(".live[aria-live]").count() == 1
    page.locator("#alerts").tap()  # the citizen allows sound: the tap unlocks audio
    expect(page.locator("#alerts")).to_have_attribute("aria-pressed", "true")
    assert_no_horizontal_overflow(page)
    screenshot(page, "status-waiting")

    live_server.call_next("schalter-1")  # the ticket ahead
    expect(page.locator("#ahead")).to_have_text("0", timeout=5_000)
    assert page.evaluate("window.__vibrations.length") == 1  # only the tap on the button so far
    live_server.call_next("schalter-1")
    expect(page.locator("#main")).to_have_attribute("data-state", "called", timeout=5_000)
    expect(page.locator("#counter")).to_have_text("Schalter 1")
    expect(page.locator("#counter")).to_be_visible()
    expect(page.locator("#waiting-facts")).to_be_hidden()
    page.wait_for_function("() => window.__vibrations.length === 2", timeout=2_000)
    assert page.evaluate("window.__tones") >= 1
    assert mine["code"] in page.title()
    assert_no_horizontal_overflow(page)
    screenshot(page, "status-called")


def test_status_page_speaks_the_language_chosen_at_the_kiosk(live_server, phone):
    ticket = live_server.issue("meldewesen", lang="ar")
    page = open_status(phone, ticket)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#service")).to_have_text("تسجيل العنوان")
    assert_no_horizontal_overflow(page)
    screenshot(page, "status-rtl")


def test_status_page_passes_axe_waiting_and_called(browser, live_server):
    ticket = live_server.issue("ausweis")
    wait_live = lambda p: p.wait_for_selector("body[data-live=connected]")  # noqa: E731
    waiting = axe_violations(browser, ticket["status_url"], viewport=PHONE, prepare=wait_live)
    assert waiting == [], describe(waiting)
    live_server.call_next("schalter-1")
    called = axe_violations(browser, ticket["status_url"], viewport=PHONE, prepare=wait_live)
    assert called == [], describe(called)

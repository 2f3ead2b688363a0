"""The live supervisor dashboard in Chromium: pushed updates, the over-target alert, reconnect, access and axe."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_PASSWORD, CLERK_PASSWORD, axe_violations, describe, screenshot, sign_in

pytestmark = pytest.mark.slow
DASHBOARD = "/admin/mitte/dashboard"
TIMEOUT = 5000

# Every text the page puts into its assertive live region, in order (the region is emptied before each one).
RECORD_ANNOUNCEMENTS = """() => {
  window.announced = [];
  new MutationObserver(() => {
    const text = document.getElementById("announce").textContent;
    if (text) window.announced.push(text);
  }).observe(document.getElementById("announce"), { childList: true, characterData: true, subtree: true });
}"""


@pytest.fixture
def supervisor(live_server):
    live_server.proc.cli("user", "add", "sina", "--role", "supervisor", "--office", "mitte",
                         stdin=ADMIN_PASSWORD + "\n")
    return live_server


def ready(page) -> None:
    expect(page.locator("#services")).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=TIMEOUT)


def age_ticket(server, ticket_id: int, waited: timedelta) -> None:
    """Make a waiting ticket look issued `waited` ago, straight in the database (the server runs in real time)."""
    path = server.proc.env["QMS_DATABASE_URL"].removeprefix("sqlite:///")
    issued = (datetime.now(UTC) - waited).replace(tzinfo=None)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE tickets SET created_at = ? WHERE id = ?", (issued.isoformat(sep=" "), ticket_id))


def service_row(page, slug: str):
    return page.locator(f'#service-rows tr[data-service="{slug}"]')


def counter_row(page, slug: str):
    return page.locator(f'#counter-rows tr[data-counter="{slug}"]')


def test_a_clerk_gets_403_on_the_dashboard(context, live_server):
    page = context.new_page()
    sign_in(page, live_server.url, "/counter/", "erika", CLERK_PASSWORD)
    assert page.goto(live_server.url + DASHBOARD).status == 403


def test_the_dashboard_follows_the_queue_live_and_alerts_once_when_a_wait_passes_its_target(context, supervisor):
    page = context.new_page()
    sign_in(page, supervisor.url, DASHBOARD, name="sina")
    ready(page)
    expect(page.get_by_role("link", name=re.compile("^(Dashboard|Übersicht)$"))).to_have_attribute(
        "aria-current", "page")
    page.evaluate(RECORD_ANNOUNCEMENTS)
    ausweis = service_row(page, "ausweis")
    expect(ausweis.locator(".waiting")).to_have_text("0")
    expect(page.locator("#over-target")).to_be_hidden()

    old = supervisor.issue("ausweis")  # pushed: the count goes up at once
    expect(ausweis.locator(".waiting")).to_have_text("1", timeout=TIMEOUT)
    expect(ausweis).to_have_attribute("data-level", "ok")

    age_ticket(supervisor, old["id"], timedelta(minutes=25))  # ausweis' target is 30 minutes: 83 % of it
    supervisor.issue("abholung")  # any change pushes a new state
    expect(ausweis).to_have_attribute("data-level", "near", timeout=TIMEOUT)
    expect(ausweis.locator(".level-word")).to_have_text(re.compile("Near target|Ziel"))
    expect(page.locator("#over-target")).to_be_hidden()

    age_ticket(supervisor, old["id"], timedelta(minutes=29, seconds=57))
    supervisor.issue("abholung")
    # The wait crosses the target seconds later with no push at all: the page's own clock turns it red.
    expect(ausweis).to_have_attribute("data-level", "over", timeout=TIMEOUT + 5000)
    expect(ausweis.locator(".level-icon")).to_have_class(re.compile("level-over"))
    banner = page.locator("#over-target")
    expect(banner).to_be_visible()
    expect(banner.locator("li")).to_have_text([re.compile("^A ")])
    screenshot(page, "dashboard-over-target")

    supervisor.issue("meldewesen")  # more states while it stays over: no new alert
    expect(service_row(page, "meldewesen").locator(".waiting")).to_have_text("1", timeout=TIMEOUT)
    page.wait_for_timeout(1500)
    announced = page.evaluate("window.announced")
    assert len([a for a in announced if "Personalausweis" in a or "ID card" in a]) == 1, announced

    called = supervisor.call_next("schalter-2")  # the policy takes the overdue ticket first
    assert called["id"] == old["id"]
    row = counter_row(page, "schalter-2")
    expect(row.locator(".ticket")).to_contain_text(called["code"], timeout=TIMEOUT)
    expect(row).to_have_attribute("data-state", "open")
    expect(row.locator(".clerk")).not_to_have_text(re.compile("^(nobody|niemand|)$"))
    expect(row.locator(".since .clock")).to_have_text(re.compile(r"^0:0[0-9]$"))
    expect(ausweis).to_have_attribute("data-level", "empty", timeout=TIMEOUT)
    expect(banner).to_be_hidden()
    screenshot(page, "dashboard-after-call")


def test_the_dashboard_shows_the_connection_and_catches_up_after_a_reconnect(context, supervisor):
    page = context.new_page()
    sign_in(page, supervisor.url, DASHBOARD, name="sina")
    ready(page)
    supervisor.proc.stop()
    expect(page.locator("#connection")).to_have_attribute("data-state", "offline", timeout=TIMEOUT * 4)
    screenshot(page, "dashboard-offline")
    supervisor.proc.start()
    supervisor.issue("abholung")  # happened while the page was away or reconnecting
    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=TIMEOUT * 3)
    expect(service_row(page, "abholung").locator(".waiting")).to_have_text("1", timeout=TIMEOUT)


def test_the_dashboard_passes_axe_in_english_with_an_alert_showing(browser, supervisor):
    ticket = supervisor.issue("ausweis")
    age_ticket(supervisor, ticket["id"], timedelta(minutes=45))
    supervisor.api("POST", "/offices/mitte/counters/schalter-1/call-next", "CLERK")  # takes the only ticket...
    age_ticket(supervisor, supervisor.issue("beglaubigung")["id"], timedelta(minutes=45))  # ...so another waits
    every_day = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    assert supervisor.api("PATCH", "/offices/mitte", json={"opening_hours": every_day}).status_code == 200

    def prepare(page):
        sign_in(page, supervisor.url, DASHBOARD, name="sina")
        ready(page)
        expect(page.locator("#over-target")).to_be_visible(timeout=TIMEOUT)
        # With opening hours and a counter open, the cut-off forecast shows as a time of day.
        expect(service_row(page, "ausweis").locator(".cutoff")).to_have_text(re.compile(r"^\d{2}:\d{2}"))
        expect(service_row(page, "meldewesen").locator(".cutoff")).to_have_text("–")  # no counter open
        screenshot(page, "dashboard-en")

    violations = axe_violations(browser, supervisor.url + "/login", prepare=prepare, locale="en-GB")
    assert not violations, describe(violations)

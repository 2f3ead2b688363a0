"""The cut-off stop in Chromium: an admin switches it on among the office's calling rules, and an open kiosk at
once greys out a service whose next ticket would not be served before closing, saying why; the dashboard says
whether its cut-off stops the issue or is a forecast only. The live server runs on the real clock, so the office
is given opening hours that end a few minutes from now, with people already waiting."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_PASSWORD, axe_violations, describe, screenshot, sign_in

pytestmark = pytest.mark.slow
TIMEOUT = 5000
LIVE = 3000  # a change reaches an open screen well within this
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STOP = "Ausgabe vor Dienstschluss automatisch beenden"
AUSWEIS = "Personalausweis und Reisepass"


def closing_soon(server, minutes: int = 5) -> None:
    """Today's opening hours end `minutes` from now (at midnight at the latest), in the office's time zone."""
    zone = ZoneInfo(server.api("GET", "/offices/mitte").json()["timezone"])
    now = datetime.now(zone)
    closes = now + timedelta(minutes=minutes)
    end = "24:00" if closes.date() != now.date() else closes.strftime("%H:%M")
    r = server.api("PATCH", "/offices/mitte", json={"opening_hours": {WEEKDAYS[now.weekday()]: [["00:00", end]]}})
    assert r.status_code == 200, r.text


def text_box(element) -> dict:
    """Where an element's text is drawn (it may spill out of a box squeezed to nothing)."""
    return element.evaluate("""el => {
      const range = document.createRange();
      range.selectNodeContents(el);
      const { x, y, width, height } = range.getBoundingClientRect();
      return { x, y, width, height };
    }""")


def overlap(a: dict, b: dict) -> bool:
    """Whether two boxes on screen cover each other (a long refusal once ran over the waiting count)."""
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def waiting(server) -> int:
    return len(server.api("GET", "/offices/mitte/queue").json()["waiting"])


def office_page(context, server):
    page = context.new_page()
    sign_in(page, server.url, "/admin/mitte/office")
    expect(page.locator("#office-form")).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)
    return page


def test_switching_the_stop_on_greys_the_service_out_on_an_open_kiosk(context, admin):
    closing_soon(admin)
    assert admin.api("POST", "/offices/mitte/counters/schalter-1/open", "CLERK").status_code == 200
    for _ in range(3):
        admin.issue("ausweis")
    kiosk = context.new_page()
    kiosk.goto(f"{admin.url}/kiosk/mitte?token={admin.tokens['KIOSK']}")
    expect(kiosk.locator("body")).to_have_attribute("data-live", "connected", timeout=TIMEOUT)
    tile = kiosk.locator("li[data-service='ausweis'] button")
    expect(tile).to_be_enabled()  # past the forecast, but the office has not asked to stop yet
    dashboard = context.new_page()
    sign_in(dashboard, admin.url, "/admin/mitte/dashboard")
    note = dashboard.locator("#service-rows tr[data-service='ausweis'] .cutoff-note")
    expect(note).to_have_text("nur Prognose", timeout=TIMEOUT)

    page = office_page(context, admin)
    switch = page.get_by_label(STOP)
    expect(switch).not_to_be_checked()
    expect(switch).to_have_accessible_description(
        "Keine Wartemarken mehr ausgeben, wenn sie vor Dienstschluss nicht mehr drankommen.")
    switch.focus()
    page.keyboard.press("Space")  # the rules are checkboxes: usable from the keyboard
    expect(switch).to_be_checked()
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#status")).to_contain_text("Gespeichert", timeout=TIMEOUT)
    assert admin.api("GET", "/offices/mitte").json()["policy"] == {
        "overdue_first": True, "service_levels": True, "stop_at_cutoff": True}
    screenshot(page, "cutoff-office")

    expect(tile).to_be_disabled(timeout=LIVE)
    expect(tile.locator(".service-reason")).to_have_text(f"Für heute keine Wartemarken mehr für {AUSWEIS}")
    expect(tile.locator(".service-reason")).to_be_visible()
    assert not overlap(text_box(tile.locator(".service-waiting")), text_box(tile.locator(".service-reason")))
    tile.click(force=True)  # a tap on the greyed-out tile
    kiosk.wait_for_timeout(500)
    assert waiting(admin) == 3
    expect(tile).to_be_disabled()
    screenshot(kiosk, "cutoff-kiosk")
    expect(note).to_have_text("Ausgabe endet automatisch", timeout=LIVE)
    screenshot(dashboard, "cutoff-dashboard")

    page.get_by_label(STOP).uncheck()
    page.get_by_role("button", name="Speichern").click()
    expect(tile).to_be_enabled(timeout=LIVE)


def test_every_calling_rule_is_saved_from_the_office_page(context, admin):
    page = office_page(context, admin)
    rules = page.get_by_role("group", name="Aufruf-Regeln")
    expect(rules.get_by_role("checkbox")).to_have_count(3)
    rules.get_by_label("Überfällige zuerst aufrufen").uncheck()
    rules.get_by_label("Vorrang der Dienstleistungen am Schalter").uncheck()
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#status")).to_contain_text("Gespeichert", timeout=TIMEOUT)
    assert admin.api("GET", "/offices/mitte").json()["policy"] == {
        "overdue_first": False, "service_levels": False, "stop_at_cutoff": False}
    page.reload()
    expect(page.locator("#office-form")).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)
    expect(page.get_by_label("Überfällige zuerst aufrufen")).not_to_be_checked()
    expect(page.get_by_label(STOP)).not_to_be_checked()


def test_the_office_page_with_its_calling_rules_has_no_serious_accessibility_violations(browser, admin):
    def login(page):
        page.fill("#name", "ada")
        page.fill("#password", ADMIN_PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login" not in url, timeout=TIMEOUT)
        page.wait_for_selector("#office-form[aria-busy='false']", timeout=TIMEOUT)
        page.get_by_label(STOP).check()

    violations = axe_violations(browser, admin.url + "/admin/mitte/office", prepare=login)
    assert violations == [], describe(violations)

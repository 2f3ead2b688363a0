"""The admin's setup pages in Chromium: office, services and counters; changes reach an open kiosk and display
without a reload, mistakes are explained at the field, and the pages pass axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_PASSWORD, axe_violations, describe, screenshot, sign_in

pytestmark = pytest.mark.slow
TIMEOUT = 5000
LIVE = 3000  # a change reaches an open screen well within this




def open_kiosk(context, live_server):
    kiosk = context.new_page()
    kiosk.goto(f"{live_server.url}/kiosk/mitte?token={live_server.tokens['KIOSK']}")
    expect(kiosk.locator("body")).to_have_attribute("data-live", "connected", timeout=TIMEOUT)
    return kiosk




def services_page(context, live_server):
    page = context.new_page()
    sign_in(page, live_server.url, "/admin/mitte/services")
    expect(page.locator("#services")).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)
    return page


def test_a_new_service_appears_on_an_open_kiosk_without_reload(context, admin):
    kiosk = open_kiosk(context, admin)
    kiosk.evaluate("window.__sameDocument = true")
    page = services_page(context, admin)
    page.get_by_role("button", name="Dienstleistung hinzufügen").click()
    dialog = page.locator("#service-dialog")
    expect(dialog).to_be_visible()
    page.fill("#name-de", "Kfz-Zulassung")
    page.fill("#name-en", "Vehicle registration")
    page.fill("#service-prefix", "k")  # made capital on save
    page.fill("#range-first", "100")
    page.fill("#range-last", "199")
    page.fill("#daily-cap", "40")
    page.locator("label.pictogram-choice", has_text="Fahrzeuge").click()
    screenshot(page, "admin-service-dialog")
    dialog.get_by_role("button", name="Speichern").click()
    expect(dialog).to_be_hidden(timeout=TIMEOUT)
    row = page.locator("#service-rows tr[data-service='kfz-zulassung']")
    expect(row).to_contain_text("K100–K199")
    expect(page.locator("#status")).to_contain_text("Kfz-Zulassung")

    tile = kiosk.locator("li[data-service='kfz-zulassung'] button")
    expect(tile).to_contain_text("Kfz-Zulassung", timeout=LIVE)
    expect(tile).to_have_attribute("data-pictogram", "car")
    expect(tile).to_be_enabled()
    assert kiosk.evaluate("window.__sameDocument") is True  # no reload happened
    screenshot(kiosk, "kiosk-new-service")


def test_closing_a_service_disables_it_on_the_kiosk_and_deactivating_removes_it(context, admin):
    kiosk = open_kiosk(context, admin)
    page = context.new_page()
    sign_in(page, admin.url, "/admin/mitte/issuing")
    tile = kiosk.locator("li[data-service='abholung'] button")
    expect(tile).to_be_enabled()
    page.locator("tr", has_text="Abholung").get_by_role("button").click()
    expect(tile).to_be_disabled(timeout=LIVE)
    expect(tile.locator(".service-reason")).not_to_be_empty()
    screenshot(kiosk, "kiosk-service-closed")

    page = services_page(context, admin)
    row = page.locator("#service-rows tr[data-service='abholung']")
    row.locator("button[data-action='toggle']").click()
    expect(row).to_contain_text("inaktiv", timeout=TIMEOUT)
    expect(kiosk.locator("li[data-service='abholung']")).to_have_count(0, timeout=LIVE)
    row.locator("button[data-action='toggle']").click()
    expect(kiosk.locator("li[data-service='abholung']")).to_have_count(1, timeout=LIVE)


def test_a_service_with_waiting_tickets_is_not_deactivated_and_the_page_says_why(context, admin):
    admin.issue("ausweis")
    page = services_page(context, admin)
    page.locator("#service-rows tr[data-service='ausweis'] button[data-action='toggle']").click()
    expect(page.locator("#status")).to_contain_text("offene Tickets", timeout=TIMEOUT)
    expect(page.locator("#service-rows tr[data-service='ausweis']")).not_to_contain_text("inaktiv")


def test_a_clashing_prefix_is_explained_at_the_field(context, admin):
    page = services_page(context, admin)
    page.locator("#service-rows tr[data-service='meldewesen'] button[data-action='edit']").click()
    page.fill("#service-prefix", "A")
    page.locator("#service-dialog").get_by_role("button", name="Speichern").click()
    field = page.locator("#service-prefix")
    expect(field).to_have_attribute("aria-invalid", "true", timeout=TIMEOUT)
    expect(page.locator("#service-prefix-error")).to_contain_text("Nummernbereich")
    expect(page.locator("#service-dialog")).to_be_visible()
    screenshot(page, "admin-service-clash")


def test_the_kiosk_order_follows_the_services_page(context, admin):
    kiosk = open_kiosk(context, admin)
    page = services_page(context, admin)
    page.get_by_role("button", name="An-, Um- und Abmeldung nach oben verschieben").click()
    expect(page.locator("#status")).to_contain_text("Reihenfolge", timeout=TIMEOUT)
    first_two = kiosk.locator("#services li")
    expect(first_two.first).to_have_attribute("data-service", "meldewesen", timeout=LIVE)


def test_office_name_hours_and_languages_are_saved_and_reach_kiosk_and_display(browser, context, admin):
    kiosk = open_kiosk(context, admin)
    screen = browser.new_context(locale="de-DE")  # its own cookie jar: a device cookie is per browser
    display = screen.new_page()
    display.goto(f"{admin.url}/display/mitte?token={admin.tokens['DISPLAY']}")
    page = context.new_page()
    sign_in(page, admin.url, "/admin/mitte/office")
    form = page.locator("#office-form")
    expect(form).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)
    page.fill("#office-name", "Bürgeramt im Rathaus")
    monday = page.locator("tr[data-day='mon']")
    monday.get_by_role("button", name="Zeitraum hinzufügen").click()
    monday.locator("input.from").fill("08:00")
    monday.locator("input.to").fill("12:00")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#status")).to_contain_text("Gespeichert", timeout=TIMEOUT)
    expect(kiosk.locator("#start-title")).to_have_text("Bürgeramt im Rathaus", timeout=LIVE)
    expect(display.locator(".office-name")).to_have_text("Bürgeramt im Rathaus", timeout=LIVE)
    office = admin.api("GET", "/offices/mitte").json()
    assert office["opening_hours"] == {"mon": [["08:00", "12:00"]]}

    page.locator("input[name='languages'][value='de']").check()
    page.locator("input[name='languages'][value='tr']").check()
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#status")).to_contain_text("Gespeichert", timeout=TIMEOUT)
    # the kiosk offers only the office's languages now (it reloads its start screen for that)
    expect(kiosk.locator(".languages a")).to_have_count(2, timeout=LIVE + 2000)
    screenshot(page, "admin-office")
    screen.close()


def test_opening_hours_that_end_before_they_start_are_refused_at_the_field(context, admin):
    page = context.new_page()
    sign_in(page, admin.url, "/admin/mitte/office")
    expect(page.locator("#office-form")).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)
    friday = page.locator("tr[data-day='fri']")
    friday.get_by_role("button", name="Zeitraum hinzufügen").click()
    friday.locator("input.from").fill("14:00")
    friday.locator("input.to").fill("09:00")
    page.get_by_role("button", name="Speichern").click()
    expect(friday.locator("input.to")).to_have_attribute("aria-invalid", "true", timeout=TIMEOUT)
    assert admin.api("GET", "/offices/mitte").json()["opening_hours"] == {}


def test_a_counter_gets_its_services_in_priority_order(context, admin):
    page = context.new_page()
    sign_in(page, admin.url, "/admin/mitte/counters")
    expect(page.locator("#counters")).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)
    page.get_by_role("button", name="Schalter hinzufügen").click()
    page.fill("#counter-name", "Schalter 9")
    items = page.locator("#counter-services li")
    items.filter(has_text="Abholung").locator("input").check()
    items.filter(has_text="Beglaubigung").locator("input").check()
    # Beglaubigung up, before Abholung
    page.get_by_role("button", name=re.compile("Beglaubigung.*nach oben")).click()
    page.get_by_role("button", name=re.compile("Beglaubigung.*nach oben")).click()
    page.get_by_role("button", name=re.compile("Beglaubigung.*nach oben")).click()
    screenshot(page, "admin-counter-dialog")
    page.locator("#counter-dialog").get_by_role("button", name="Speichern").click()
    expect(page.locator("#counter-dialog")).to_be_hidden(timeout=TIMEOUT)
    counters = {c["slug"]: c for c in admin.api("GET", "/offices/mitte/counters").json()}
    assert counters["schalter-9"]["services"][:2] == ["beglaubigung", "abholung"], counters["schalter-9"]


@pytest.mark.parametrize("path", ["/admin/mitte/office", "/admin/mitte/services", "/admin/mitte/counters"])
def test_setup_pages_have_no_serious_accessibility_violations(browser, admin, path):
    def login(page):
        page.fill("#name", "ada")
        page.fill("#password", ADMIN_PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login" not in url, timeout=TIMEOUT)
        page.wait_for_selector("[aria-busy='false']", timeout=TIMEOUT)

    violations = axe_violations(browser, admin.url + path, prepare=login)
    assert violations == [], describe(violations)

"""The touch kiosk in Chromium: pairing, live services, one tap one ticket, languages, out of order, a11y."""

from __future__ import annotations

import gettext
import re
from urllib.parse import urlencode

import pytest
import requests
from playwright.sync_api import expect

from server.config import ROOT
from tests.browser.conftest import axe_violations, describe, screenshot

pytestmark = pytest.mark.slow

PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
LANGUAGE_NAMES = ["Deutsch", "English", "Türkçe", "العربية", "Українська", "Русский"]
GRACE_MS = 800  # kiosk.js ignores touches this long after a screen appears (the rest of a double tap)


def german_ui() -> bool:
    """True once the lead has merged translations/fragments/kiosk.de.po into the compiled German catalog."""
    catalog = gettext.translation("messages", ROOT / "translations", ["de"], fallback=True)
    return catalog.gettext("Waiting: {n}") != "Waiting: {n}"


def kiosk_url(live_server, **params) -> str:
    return f"{live_server.url}/kiosk/mitte?{urlencode({'token': live_server.tokens['KIOSK'], **params})}"


def open_kiosk(context, live_server, **params):
    page = context.new_page()
    page.goto(kiosk_url(live_server, **params))
    expect(page.locator("body[data-live=connected]")).to_be_attached(timeout=10_000)
    return page


def service(page, slug: str):
    return page.locator(f'#services li[data-service="{slug}"]')


def waiting(live_server) -> list[dict]:
    r = live_server.api("GET", "/offices/mitte/queue")
    assert r.status_code == 200, r.text
    return r.json()["waiting"]


def assert_no_horizontal_overflow(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"horizontal overflow: scrollWidth {widths[0]} > clientWidth {widths[1]}"


def test_kiosk_opens_only_with_a_kiosk_token_for_its_office(live_server):
    page = requests.get(f"{live_server.url}/kiosk/mitte", timeout=10)
    assert page.status_code == 401
    assert "device add NAME --kind kiosk --office mitte" in page.text and "/pair" in page.text
    display = requests.get(kiosk_url(live_server).replace(live_server.tokens["KIOSK"], live_server.tokens["DISPLAY"]),
                           timeout=10, allow_redirects=False)
    assert display.status_code == 401
    assert requests.get(f"{live_server.url}/kiosk/nowhere", timeout=10).status_code == 404
    paired = requests.get(kiosk_url(live_server, **{"return": 5}), timeout=10, allow_redirects=False)
    assert paired.status_code == 302
    assert paired.headers["Location"] == "/kiosk/mitte?return=5"  # the token leaves the address bar
    assert "HttpOnly" in paired.headers["Set-Cookie"]


def test_start_screen_in_german_updates_live_in_portrait_and_landscape(browser, live_server):
    ctx = browser.new_context(viewport=PORTRAIT, locale="en-US")  # German even for an English browser
    try:
        page = open_kiosk(ctx, live_server)
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.locator("h1")).to_have_text("Bürgerbüro Mitte")
        expect(page.locator(".languages a")).to_have_text(LANGUAGE_NAMES)
        expect(page.locator(".languages a[aria-current]")).to_have_text("Deutsch")
        expect(service(page, "ausweis").locator(".service-name")).to_have_text("Personalausweis und Reisepass")
        expect(service(page, "ausweis")).to_have_attribute("data-waiting", "0")
        live_server.issue("ausweis")
        expect(service(page, "ausweis")).to_have_attribute("data-waiting", "1", timeout=5_000)  # pushed, no reload
        waiting_text = "Wartende: 1" if german_ui() else "Waiting: 1"  # UI string: German once catalogs merge
        expect(service(page, "ausweis").locator(".service-waiting")).to_have_text(waiting_text)
        # No counter is open yet: the kiosk says so instead of a number (server/queue/estimate.py).
        expect(service(page, "ausweis").locator(".service-estimate")).to_have_text(
            re.compile(r"\d+–\d+|No counter open|Kein Schalter"))
        assert_no_horizontal_overflow(page)
        screenshot(page, "kiosk-start-portrait")
        page.set_viewport_size(LANDSCAPE)
        boxes = [service(page, s).bounding_box() for s in ("ausweis", "meldewesen")]
        assert boxes[0]["y"] == boxes[1]["y"], "landscape shows the services in two columns"
        assert_no_horizontal_overflow(page)
        screenshot(page, "kiosk-start-landscape")
    finally:
        ctx.close()


def test_tap_shows_the_ticket_with_its_qr_code_then_returns_to_start(context, live_server):
    page = open_kiosk(context, live_server, **{"return": 3})
    service(page, "ausweis").locator("button").click()
    expect(page.locator("#ticket")).to_be_visible()
    ticket = waiting(live_server)[0]
    expect(page.locator("#ticket-code")).to_have_text(ticket["code"])
    assert re.fullmatch(r"A\d{3}", ticket["code"])
    expect(page.locator("#ticket-service")).to_have_text("Personalausweis und Reisepass")
    expect(page.locator("#ticket-ahead")).to_have_text("0")
    token = ticket["status_url"].rsplit("/", 1)[1]
    expect(page.locator("#ticket-qr")).to_have_attribute("src", f"/t/{token}/qr.svg")
    page.wait_for_function("() => document.getElementById('ticket-qr').naturalWidth > 0", timeout=5_000)
    screenshot(page, "kiosk-ticket")
    expect(page.locator("#start")).to_be_visible(timeout=6_000)  # by itself after ?return=3 seconds
    expect(page.locator("#ticket")).to_be_hidden()

    service(page, "abholung").locator("button").click()
    expect(page.locator("#ticket")).to_be_visible()
    page.wait_for_timeout(GRACE_MS + 200)  # a known grace period, not a guess: after it any touch returns
    page.mouse.click(20, 20)
    expect(page.locator("#start")).to_be_visible(timeout=1_000)


def test_double_taps_and_retries_make_one_ticket(context, live_server):
    page = open_kiosk(context, live_server)
    service(page, "ausweis").locator("button").dblclick()
    expect(page.locator("#ticket")).to_be_visible()
    assert len(waiting(live_server)) == 1
    page.wait_for_timeout(GRACE_MS + 200)  # Done, too, ignores the rest of a double tap
    page.locator("#ticket-done").click()
    expect(page.locator("#start")).to_be_visible()

    twice = "() => { const b = document.querySelector('[data-service=meldewesen] button'); b.click(); b.click(); }"
    page.evaluate(twice)  # two clicks in one task: the second comes before any re-render
    expect(page.locator("#ticket")).to_be_visible()
    expect(page.locator("#ticket-code")).to_have_text(re.compile(r"B\d{3}"))
    assert len(waiting(live_server)) == 2


def test_a_lost_response_is_retried_with_the_same_request_id(context, live_server):
    page = open_kiosk(context, live_server)
    bodies = []

    def lose_first_response(route):
        bodies.append(route.request.post_data_json)
        if len(bodies) == 1:
            route.fetch()  # the server makes the ticket, but the answer never reaches the kiosk
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/offices/mitte/tickets", lose_first_response)
    service(page, "beglaubigung").locator("button").click()
    expect(page.locator("#ticket")).to_be_visible()
    assert len(bodies) == 2 and bodies[0]["request_id"] == bodies[1]["request_id"]
    tickets = waiting(live_server)
    assert len(tickets) == 1
    expect(page.locator("#ticket-code")).to_have_text(tickets[0]["code"])


def add_capped_service(live_server) -> None:
    body = {"slug": "express", "name": {"de": "Schnellschalter", "en": "Express desk"}, "prefix": "E",
            "daily_cap": 1}
    r = live_server.api("POST", "/offices/mitte/services", json=body)
    assert r.status_code == 201, r.text


def test_refused_tap_shows_the_reason_and_disables_the_service(context, live_server):
    page = open_kiosk(context, live_server, **{"return": 30})
    add_capped_service(live_server)
    expect(service(page, "express").locator(".service-name")).to_have_text("Schnellschalter")  # new, live
    expect(service(page, "express").locator("button")).to_be_enabled()

    def another_kiosk_takes_the_last_ticket_first(route):
        live_server.issue("express")
        route.continue_()  # the real server now refuses with 409 daily_cap_reached

    page.route("**/api/v1/offices/mitte/tickets", another_kiosk_takes_the_last_ticket_first)
    service(page, "express").locator("button").click()
    reason = "Die Wartemarken für heute sind vergeben" if german_ui() else "All of today's tickets are taken"
    expect(page.locator("#refusal")).to_be_visible()
    expect(page.locator("#refusal-reason")).to_have_text(reason)
    screenshot(page, "kiosk-refused")
    page.wait_for_timeout(GRACE_MS + 200)  # the known grace period before a touch returns
    page.locator("#refusal-done").click()
    expect(page.locator("#start")).to_be_visible()
    expect(service(page, "express").locator("button")).to_be_disabled()
    expect(service(page, "express").locator(".service-reason")).to_have_text(reason)
    expect(service(page, "ausweis").locator("button")).to_be_enabled()
    screenshot(page, "kiosk-service-closed")


def test_service_at_its_daily_cap_is_disabled_live(context, live_server):
    page = open_kiosk(context, live_server)
    add_capped_service(live_server)
    expect(service(page, "express")).to_have_attribute("data-issuing", "true")
    live_server.issue("express")
    express = next(s for s in live_server.api("GET", "/offices/mitte/services").json() if s["slug"] == "express")
    assert (express["issuing"], express["closed_reason"], express["issued_today"]) == (False, "daily_cap_reached", 1)
    expect(service(page, "express")).to_have_attribute("data-issuing", "false", timeout=5_000)
    expect(service(page, "express").locator("button")).to_be_disabled()
    expect(service(page, "express").locator(".service-reason")).to_be_visible()


def test_a_supervisor_stops_a_service_and_the_open_kiosk_disables_it_at_once(context, live_server):
    page = open_kiosk(context, live_server)
    expect(service(page, "ausweis").locator("button")).to_be_enabled()
    r = live_server.api("POST", "/offices/mitte/services/ausweis/issuing", json={"open": False})
    assert r.status_code == 200, r.text
    expect(service(page, "ausweis").locator("button")).to_be_disabled(timeout=5_000)  # live, no reload
    reason = "Heute keine Wartemarken mehr" if german_ui() else "No more tickets today"
    expect(service(page, "ausweis").locator(".service-reason")).to_have_text(reason)
    expect(service(page, "meldewesen").locator("button")).to_be_enabled()
    r = live_server.api("POST", "/offices/mitte/issuing", json={"open": False})
    expect(page.locator("#office-closed")).to_be_visible(timeout=5_000)
    expect(service(page, "meldewesen").locator("button")).to_be_disabled()
    live_server.api("POST", "/offices/mitte/issuing", json={"open": True})
    live_server.api("POST", "/offices/mitte/services/ausweis/issuing", json={"open": True})
    expect(service(page, "ausweis").locator("button")).to_be_enabled(timeout=5_000)
    expect(page.locator("#office-closed")).to_be_hidden()


def test_choosing_english_translates_and_a_ticket_returns_to_german(context, live_server):
    page = open_kiosk(context, live_server, **{"return": 3})
    if german_ui():  # UI strings: German only once the catalogs are merged; the names come from the data
        expect(page.locator(".lead")).to_contain_text("Bitte wählen Sie")
    page.locator(".languages a", has_text="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("body[data-live=connected]")).to_be_attached(timeout=10_000)
    expect(service(page, "ausweis").locator(".service-name")).to_have_text("ID card and passport")
    expect(service(page, "ausweis").locator(".service-waiting")).to_have_text("Waiting: 0")
    expect(page.locator(".lead")).to_have_text("Please choose your concern. You will get a number.")
    service(page, "ausweis").locator("button").click()
    expect(page.locator("#ticket-title")).to_have_text("Your number")
    expect(page.locator("#ticket-service")).to_have_text("ID card and passport")
    assert waiting(live_server)[0]["lang"] == "en"
    expect(page.locator("html")).to_have_attribute("lang", "de", timeout=8_000)  # back to the default
    expect(service(page, "ausweis").locator(".service-name")).to_have_text("Personalausweis und Reisepass")
    assert "lang=" not in page.url


@pytest.mark.parametrize("viewport,name", [(PORTRAIT, "kiosk-rtl"), (LANDSCAPE, "kiosk-rtl-landscape")])
def test_arabic_is_right_to_left_without_overflow(browser, live_server, viewport, name):
    ctx = browser.new_context(viewport=viewport, locale="de-DE")
    try:
        page = open_kiosk(ctx, live_server, lang="ar")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("html")).to_have_attribute("lang", "ar")
        expect(service(page, "ausweis").locator(".service-name")).to_have_text("بطاقة الهوية وجواز السفر")
        assert_no_horizontal_overflow(page)
        screenshot(page, name)
        service(page, "meldewesen").locator("button").click()
        expect(page.locator("#ticket")).to_be_visible()
        page.wait_for_function("() => document.getElementById('ticket-qr').naturalWidth > 0", timeout=5_000)
        assert_no_horizontal_overflow(page)
        screenshot(page, f"{name}-ticket")
    finally:
        ctx.close()


def test_out_of_order_while_the_server_is_down_and_back_by_itself(context, live_server):
    page = open_kiosk(context, live_server)
    expect(page.locator("#out-of-order")).to_be_hidden()
    live_server.proc.stop()
    expect(page.locator("#out-of-order")).to_be_visible(timeout=10_000)
    expect(page.locator("#out-of-order")).to_contain_text("Out of order")
    screenshot(page, "kiosk-out-of-order")
    live_server.proc.start()
    expect(page.locator("#out-of-order")).to_be_hidden(timeout=20_000)
    service(page, "ausweis").locator("button").click()
    expect(page.locator("#ticket")).to_be_visible()
    assert len(waiting(live_server)) == 1


def test_kiosk_screens_pass_axe(browser, live_server):
    start = axe_violations(browser, kiosk_url(live_server), viewport=PORTRAIT,
                           prepare=lambda p: p.wait_for_selector("body[data-live=connected]"))
    assert start == [], describe(start)

    def tap(page):
        page.wait_for_selector("body[data-live=connected]")
        page.locator('[data-service="ausweis"] button').click()
        page.wait_for_function("() => document.getElementById('ticket-qr').naturalWidth > 0", timeout=5_000)

    ticket = axe_violations(browser, kiosk_url(live_server), viewport=LANDSCAPE, prepare=tap)
    assert ticket == [], describe(ticket)

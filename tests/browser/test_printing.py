"""Ticket printing as citizens and clerks see it, in Chromium against a real server and a fake network printer.

The kiosk keeps the ticket on screen whatever the printer does and says what happened to the paper; the counter
shows printer faults live and reprints the current ticket.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CLERK_PASSWORD, axe_violations, describe, screenshot
from tests.browser.test_counter import button, current, ready, sign_in
from tests.browser.test_kiosk import LANDSCAPE, PORTRAIT, kiosk_url, open_kiosk, service
from tests.support.fake_printer import FakePrinter

pytestmark = pytest.mark.slow
KIOSK_DEVICE = "kiosk-eingang"  # the demo kiosk that the KIOSK token stands for
TIMEOUT = 5000
OUTCOME_MS = 15_000  # printing.js: no outcome by then means the printer is not working
FAILED_SECONDS = 60  # kiosk.js: how long the ticket stays on screen after a failure


@pytest.fixture
def printer():
    with FakePrinter() as fake:
        yield fake


def use_network_printer(live_server, printer: FakePrinter, timeout: float = 1) -> None:
    """The kiosk prints through the server on the fake printer (the CLI, on the live server's database)."""
    live_server.proc.cli("printer", "set", KIOSK_DEVICE, "--office", "mitte", "--backend", "network",
                         "--host", "127.0.0.1", "--port", str(printer.port), "--timeout", str(timeout))


def use_usb_printer(live_server) -> None:
    """A USB printer on the kiosk PC; with no agent connected every job fails at once (agent_offline)."""
    live_server.proc.cli("printer", "set", KIOSK_DEVICE, "--office", "mitte", "--backend", "usb")


def kiosk_text(page, key: str) -> str:
    """A print status text of the kiosk page, in whatever language the page was rendered."""
    return page.evaluate("(k) => JSON.parse(document.getElementById('kiosk-data').textContent).strings.print[k]",
                         key)


def counter_text(page, key: str, **values) -> str:
    text = page.evaluate("(k) => JSON.parse(document.getElementById('counter-config').textContent).strings[k]", key)
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), text)


def tap(page, slug: str = "ausweis") -> str:
    """Tap a service; returns the code on the ticket screen."""
    service(page, slug).locator("button").click()
    expect(page.locator("#ticket")).to_be_visible()
    expect(page.locator("#ticket-code")).to_have_text(re.compile(r"^[A-Z]\d{3}$"))
    return page.locator("#ticket-code").text_content()


def expect_failure_notice(page, timeout: float = TIMEOUT) -> None:
    """The notice, the ticket code and the QR code, all visible; the button to try again too."""
    expect(page.locator("#ticket")).to_have_attribute("data-print", "failed", timeout=timeout)
    expect(page.get_by_role("alert")).to_have_text(kiosk_text(page, "failed"))
    expect(page.locator("#ticket-code")).to_be_visible()
    page.wait_for_function("() => document.getElementById('ticket-qr').naturalWidth > 0", timeout=TIMEOUT)
    expect(page.locator("#ticket-qr")).to_be_in_viewport()
    expect(page.locator("#ticket-code")).to_be_in_viewport()
    expect(page.locator("#print-retry")).to_be_visible()
    expect(page.locator("#print-retry")).to_be_in_viewport()


def job_of(live_server, code: str) -> dict:
    jobs = live_server.api("GET", "/offices/mitte/print-jobs").json()["jobs"]
    return next(j for j in jobs if j["ticket"]["code"] == code)


def test_a_printed_ticket_asks_the_citizen_to_take_it(context, live_server, printer):
    use_network_printer(live_server, printer)
    page = open_kiosk(context, live_server)
    code = tap(page)
    expect(page.locator("#print-status")).to_have_text(kiosk_text(page, "printed"), timeout=TIMEOUT)
    expect(page.locator("#ticket")).to_have_attribute("data-print", "printed")
    expect(page.locator("#print-alert")).to_be_empty()
    expect(page.locator("#print-retry")).to_be_hidden()
    [job] = printer.wait_for_jobs(1)
    assert job.image is not None and job.image.size[0] == 576 and job.cut == "full"
    assert job_of(live_server, code)["state"] == "printed"
    screenshot(page, "printing-kiosk-printed")


def test_a_failed_print_keeps_the_ticket_on_screen_and_trying_again_prints_it(context, live_server, printer):
    printer.mode = "hang"  # takes the connection and never answers: the job times out after 2 s
    use_network_printer(live_server, printer, timeout=2)
    page = open_kiosk(context, live_server, **{"return": 3})
    code = tap(page)
    expect(page.locator("#print-status")).to_have_text(kiosk_text(page, "pending"))
    expect_failure_notice(page)
    assert job_of(live_server, code)["error"]["code"] == "timeout"
    screenshot(page, "printing-kiosk-failed-de")

    expect(page.locator("#ticket-title")).to_be_focused()
    page.keyboard.press("Tab")  # from the heading, the next stop is the button to try again
    expect(page.locator("#print-retry")).to_be_focused()
    page.wait_for_timeout(4000)  # longer than ?return=3: after a failure the ticket stays
    expect(page.locator("#ticket")).to_be_visible()

    printer.mode = "ok"
    page.keyboard.press("Enter")
    expect(page.locator("#print-status")).to_have_text(kiosk_text(page, "printed"), timeout=TIMEOUT)
    expect(page.locator("#print-retry")).to_be_hidden()
    expect(page.locator("#ticket-title")).to_be_focused()  # not lost with the button that went away
    [job] = printer.wait_for_jobs(1)
    assert job.image is not None
    printed = job_of(live_server, code)
    assert (printed["state"], printed["attempts"]) == ("printed", 2)
    expect(page.locator("#start")).to_be_visible(timeout=6000)  # printed: back after ?return=3 as usual


def hold_the_ticket_response_until_its_failure_was_pushed(page) -> dict:
    """The failure reaches the page over the socket first, and the response naming its job only after it
    (set up before the page opens its socket)."""
    frames, held = [], {"pushed_first": False}
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f if isinstance(f, str) else "")))

    def handler(route):
        response = route.fetch()
        for _ in range(50):
            if any('"print_failed"' in f for f in frames):
                held["pushed_first"] = True
                break
            page.wait_for_timeout(100)
        route.fulfill(response=response)

    page.route("**/api/v1/offices/mitte/tickets", handler)
    return held


def test_a_failure_before_the_response_and_in_arabic_shows_the_notice(browser, live_server):
    use_usb_printer(live_server)  # no agent connected: the job fails at once
    ctx = browser.new_context(viewport=PORTRAIT, locale="de-DE")
    try:
        page = ctx.new_page()
        held = hold_the_ticket_response_until_its_failure_was_pushed(page)
        page.goto(kiosk_url(live_server, lang="ar"))
        expect(page.locator("body[data-live=connected]")).to_be_attached(timeout=10_000)
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        code = tap(page, "meldewesen")
        assert held["pushed_first"]
        expect_failure_notice(page)
        assert job_of(live_server, code)["error"]["code"] == "agent_offline"
        screenshot(page, "printing-kiosk-failed-ar")
        page.wait_for_timeout(1000)
        page.mouse.click(20, 20)  # a stray touch after a failure does not take the ticket away
        page.wait_for_timeout(500)
        expect(page.locator("#ticket")).to_be_visible()
        page.set_viewport_size(LANDSCAPE)
        expect_failure_notice(page)
        screenshot(page, "printing-kiosk-failed-ar-landscape")
    finally:
        ctx.close()


def test_no_outcome_in_time_is_a_failure_for_the_citizen(context, live_server, printer):
    printer.mode = "hang"
    use_network_printer(live_server, printer, timeout=40)  # the server waits longer than the kiosk does
    page = context.new_page()
    page.clock.install()
    page.goto(kiosk_url(live_server))
    expect(page.locator("body[data-live=connected]")).to_be_attached(timeout=10_000)
    code = tap(page)
    expect(page.locator("#print-status")).to_have_text(kiosk_text(page, "pending"))
    page.clock.run_for(OUTCOME_MS - 1000)
    expect(page.locator("#ticket")).to_have_attribute("data-print", "pending")
    page.clock.run_for(2000)
    expect_failure_notice(page)
    assert job_of(live_server, code)["state"] == "printing"  # the kiosk told the citizen; the server still tries
    page.locator("#print-retry").click()  # not failed yet (409): the kiosk looks again and waits
    expect(page.locator("#ticket")).to_have_attribute("data-print", "pending", timeout=TIMEOUT)


def test_the_kiosk_failure_screen_passes_axe(browser, live_server):
    use_usb_printer(live_server)

    def fail(page):
        page.wait_for_selector("body[data-live=connected]")
        page.locator('[data-service="ausweis"] button').click()
        page.wait_for_selector('#ticket[data-print="failed"]')
        page.wait_for_function("() => document.getElementById('ticket-qr').naturalWidth > 0", timeout=TIMEOUT)

    for viewport in (LANDSCAPE, PORTRAIT):
        violations = axe_violations(browser, kiosk_url(live_server), viewport=viewport, prepare=fail)
        assert violations == [], describe(violations)


def test_a_printer_fault_shows_on_the_counter_live_and_a_reprint_prints(context, live_server, printer):
    printer.mode = "paper_out"
    use_network_printer(live_server, printer)
    page = context.new_page()
    sign_in(page, live_server.url)
    page.evaluate("() => { window.stillTheSamePage = true; }")
    banner = page.locator("#printers")
    expect(banner).to_be_empty()
    ticket = live_server.issue("ausweis")

    line = counter_text(page, "printer_line", device=KIOSK_DEVICE, status=counter_text(page, "printer_paper_out"))
    lost = counter_text(page, "not_printed", code=ticket["code"])
    expect(banner.locator("li")).to_have_text([f"{line} – {lost}"], timeout=TIMEOUT)
    expect(banner).to_have_attribute("role", "alert")  # newly bad
    assert page.evaluate("() => window.stillTheSamePage === true")  # pushed, not reloaded
    screenshot(page, "printing-counter-banner")

    page.keyboard.press("n")
    expect(current(page)).to_have_text(ticket["code"], timeout=TIMEOUT)
    expect(button(page, "reprint")).to_be_enabled()
    expect(banner).to_have_attribute("role", "status")  # the same fault again is no new alarm
    page.keyboard.press("Shift+R")
    message = counter_text(page, "reprint_failed", code=ticket["code"], message="")
    expect(page.locator("#error")).to_contain_text(message, timeout=TIMEOUT)
    expect(page.locator("#error")).to_contain_text("out of paper")

    printer.mode = "ok"
    page.keyboard.press("Shift+R")
    expect(page.locator("#status")).to_have_text(
        counter_text(page, "reprint_printed", code=ticket["code"], device=KIOSK_DEVICE), timeout=TIMEOUT)
    [job] = printer.wait_for_jobs(1)
    assert job.image is not None and job.cut == "full"
    expect(page.locator("#error")).to_be_empty()
    expect(banner).to_be_empty(timeout=TIMEOUT)  # printed: the printer is fine again


def test_reprint_without_a_printer_says_so(context, live_server):
    ticket = live_server.issue("ausweis")
    page = context.new_page()
    sign_in(page, live_server.url)
    page.keyboard.press("n")
    expect(current(page)).to_have_text(ticket["code"], timeout=TIMEOUT)
    button(page, "reprint").click()
    expect(page.locator("#error")).to_contain_text(counter_text(page, "no_printer"), timeout=TIMEOUT)
    expect(page.locator("#printers")).to_be_empty()


def test_the_counter_with_a_printer_banner_passes_axe(browser, live_server, printer):
    printer.mode = "refuse"
    use_network_printer(live_server, printer)
    ticket = live_server.issue("ausweis")

    def signed_in_with_banner(page):
        page.fill("#name", "erika")
        page.fill("#password", CLERK_PASSWORD)
        page.keyboard.press("Enter")
        ready(page)
        expect(page.locator("#printers li")).to_contain_text(ticket["code"], timeout=TIMEOUT)
        page.keyboard.press("n")
        expect(current(page)).to_have_text(ticket["code"], timeout=TIMEOUT)

    violations = axe_violations(browser, live_server.url + "/counter/mitte/schalter-1", prepare=signed_in_with_banner)
    assert violations == [], describe(violations)

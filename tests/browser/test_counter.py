"""The clerk's counter page in Chromium: sign-in, the whole ticket flow by keyboard, live updates, errors, a11y."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CLERK_PASSWORD, axe_violations, describe, screenshot

pytestmark = pytest.mark.slow
WORK = "/counter/mitte/schalter-1"
TIMEOUT = 5000


def ready(page) -> None:
    """The first snapshot from the /counter namespace has been rendered."""
    expect(page.locator("#workspace")).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)


def sign_in(page, url: str, path: str = WORK) -> None:
    """Sign in as erika on the way to a counter page (forms filled directly; the keyboard test types)."""
    page.goto(url + path)
    page.fill("#name", "erika")
    page.fill("#password", CLERK_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(path) + "$"), timeout=TIMEOUT)
    ready(page)


def tab_to(page, selector: str, limit: int = 40) -> None:
    """Press Tab until the element matching selector has the focus."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def page_string(page, key: str) -> str:
    """A text the page's script shows, in whatever language the page was rendered."""
    return page.evaluate("(k) => JSON.parse(document.getElementById('counter-config').textContent).strings[k]", key)


def current(page):
    return page.locator("#current-code")


def button(page, action: str):
    return page.locator(f'#workspace button[data-action="{action}"]')


def ticket_in_queue(live_server, code: str) -> dict | None:
    queue = live_server.api("GET", "/offices/mitte/queue").json()
    return next((t for tickets in queue.values() for t in tickets if t["code"] == code), None)


def status_of(live_server, ticket: dict) -> str:
    token = ticket["status_url"].rsplit("/", 1)[1]
    return live_server.api("GET", f"/status/{token}").json()["state"]


def counter_state(live_server, slug: str = "schalter-1") -> str:
    counters = live_server.api("GET", "/offices/mitte/counters").json()
    return next(c["state"] for c in counters if c["slug"] == slug)


def press_and_expect_code(page, key: str, code: str) -> None:
    page.keyboard.press(key)
    expect(current(page)).to_have_text(code, timeout=TIMEOUT)


def keyboard_sign_in(page, url: str) -> None:
    page.goto(url + "/counter/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator("#name")).to_be_focused()
    screenshot(page, "counter-login")
    page.keyboard.type("erika")
    page.keyboard.press("Tab")
    page.keyboard.type(CLERK_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/counter/mitte/$"), timeout=TIMEOUT)


def keyboard_pick_and_open(page, url: str) -> None:
    expect(page.locator(".pick")).to_have_count(4)
    screenshot(page, "counter-pick")
    tab_to(page, f'a[href="{WORK}"]')
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(WORK) + "$"), timeout=TIMEOUT)
    ready(page)
    expect(page.locator("#counter-state")).to_have_class(re.compile("state-closed"))
    expect(button(page, "start")).to_be_disabled()
    page.keyboard.press("o")
    expect(page.locator("#counter-state")).to_have_class(re.compile("state-open"), timeout=TIMEOUT)
    assert counter_state(page.live_server) == "open"


def test_the_whole_flow_works_by_keyboard_alone(browser, live_server, context):
    page = context.new_page()
    page.live_server = live_server
    tickets = [live_server.issue("ausweis") for _ in range(3)]
    fifth = live_server.issue("abholung")  # the counter's second service: called after every "ausweis" ticket
    keyboard_sign_in(page, live_server.url)
    keyboard_pick_and_open(page, live_server.url)
    expect(page.locator("#queue-rows tr")).to_have_count(4)

    # call next, start, finish
    press_and_expect_code(page, "n", tickets[0]["code"])
    expect(button(page, "finish")).to_be_disabled()
    page.keyboard.press("s")
    expect(button(page, "finish")).to_be_enabled(timeout=TIMEOUT)
    expect(page.locator("#since-start")).to_have_text(re.compile(r"^\d+:\d\d$"))
    page.keyboard.press("f")
    expect(button(page, "call-next")).to_be_enabled(timeout=TIMEOUT)
    expect(current(page)).not_to_have_text(tickets[0]["code"])
    assert status_of(live_server, tickets[0]) == "done"

    # recall shows the call count, then no-show
    press_and_expect_code(page, "n", tickets[1]["code"])
    expect(page.locator("#current-calls")).to_have_text("1")
    page.keyboard.press("r")
    expect(page.locator("#current-calls")).to_have_text("2", timeout=TIMEOUT)
    page.keyboard.press("x")
    expect(button(page, "call-next")).to_be_enabled(timeout=TIMEOUT)
    assert status_of(live_server, tickets[1]) == "no_show"

    # requeue puts the ticket back into this counter's queue
    press_and_expect_code(page, "n", tickets[2]["code"])
    page.keyboard.press("q")
    expect(page.locator("#queue-rows tr", has_text=tickets[2]["code"])).to_have_count(1, timeout=TIMEOUT)
    expect(page.locator("#queue-rows tr")).to_have_count(2)
    assert ticket_in_queue(live_server, tickets[2]["code"])["state"] == "waiting"

    # transfer to another service, at the front, all inside the dialog by keyboard
    press_and_expect_code(page, "n", tickets[2]["code"])
    expect(page.locator("#since-call")).to_have_text(re.compile(r"^\d+:\d\d$"))
    screenshot(page, "counter-working")
    transfer_by_keyboard(page, "service:meldewesen", front=True)
    moved = ticket_in_queue(live_server, tickets[2]["code"])
    assert (moved["state"], moved["service"], moved["position"]) == ("waiting", "meldewesen", 1)

    # transfer to a counter
    fourth = live_server.issue("ausweis")
    press_and_expect_code(page, "n", fourth["code"])
    transfer_by_keyboard(page, "counter:schalter-2", front=False)
    moved = ticket_in_queue(live_server, fourth["code"])
    assert (moved["state"], moved["target_counter"]) == ("waiting", "schalter-2")

    # park and call back with the number key shown on the parked ticket's button
    press_and_expect_code(page, "n", fifth["code"])
    page.keyboard.press("s")
    expect(button(page, "park")).to_be_enabled(timeout=TIMEOUT)
    page.keyboard.press("p")
    expect(page.locator("#parked-list li .code")).to_have_text([fifth["code"]], timeout=TIMEOUT)
    expect(current(page)).not_to_have_text(fifth["code"])
    assert ticket_in_queue(live_server, fifth["code"])["state"] == "parked"
    expect(page.locator("#parked-list button kbd")).to_have_text("1")
    press_and_expect_code(page, "1", fifth["code"])
    expect(page.locator("#parked-list li")).to_have_count(0)
    assert ticket_in_queue(live_server, fifth["code"])["state"] == "called"
    page.keyboard.press("s")
    expect(button(page, "finish")).to_be_enabled(timeout=TIMEOUT)
    page.keyboard.press("f")
    expect(button(page, "call-next")).to_be_enabled(timeout=TIMEOUT)

    # nobody left for this counter: call next says so and calls no one
    page.keyboard.press("n")
    expect(page.locator("#status")).to_have_text(page_string(page, "none_waiting"), timeout=TIMEOUT)
    expect(current(page)).to_have_class(re.compile("is-empty"))

    # pause and close change the counter's state
    page.keyboard.press("Shift+P")
    expect(page.locator("#counter-state")).to_have_class(re.compile("state-paused"), timeout=TIMEOUT)
    assert counter_state(live_server) == "paused"
    page.keyboard.press("Shift+C")
    expect(page.locator("#counter-state")).to_have_class(re.compile("state-closed"), timeout=TIMEOUT)
    assert counter_state(live_server) == "closed"

    # and sign out
    tab_to(page, ".topbar-user button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/login$"), timeout=TIMEOUT)
    page.goto(live_server.url + WORK)
    expect(page).to_have_url(re.compile(r"/login\?next="))


def transfer_by_keyboard(page, target: str, *, front: bool) -> None:
    """Escape closes the dialog and gives the focus back; then pick the target and place, and submit."""
    dialog = page.locator("#transfer-dialog")
    page.keyboard.press("t")
    expect(dialog).to_be_visible()
    expect(page.locator("#transfer-target")).to_be_focused()
    page.keyboard.press("n")  # a shortcut key must do nothing while the dialog is open
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button(page, "transfer")).to_be_focused()
    page.keyboard.press("t")
    expect(dialog).to_be_visible()
    choose_option(page, target)
    if target.startswith("service:"):
        screenshot(page, "counter-transfer-dialog")
    page.keyboard.press("Tab")  # to the position radios; the checked one ("back") has the focus
    expect(page.locator('input[name=position][value="back"]')).to_be_focused()
    if front:
        page.keyboard.press("ArrowUp")
        expect(page.locator('input[name=position][value="front"]')).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.locator("#transfer-form button[type=submit]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(button(page, "call-next")).to_be_enabled(timeout=TIMEOUT)


def choose_option(page, value: str) -> None:
    """Move through the focused list with the arrow keys until value is selected."""
    select = page.locator("#transfer-target")
    for _ in range(20):
        if select.input_value() == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"option {value} not reachable")


def test_a_call_at_another_counter_updates_the_queue_at_once(browser, live_server, context):
    page = context.new_page()
    sign_in(page, live_server.url)
    first, second = live_server.issue("ausweis"), live_server.issue("ausweis")
    expect(page.locator("#queue-rows tr .code")).to_have_text([first["code"], second["code"]], timeout=TIMEOUT)
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "/api/" in r.url else None)
    live_server.call_next("schalter-2")
    expect(page.locator("#queue-rows tr .code")).to_have_text([second["code"]], timeout=1000)
    assert requests == []  # pushed over the socket, not fetched


def test_a_ticket_finished_elsewhere_gives_an_inline_error_and_the_page_resyncs(browser, live_server, context):
    ticket = live_server.issue("ausweis")
    page_a, held = context.new_page(), {"on": False}
    hold_pushed_changes(page_a, held)
    sign_in(page_a, live_server.url)
    press_and_expect_code(page_a, "n", ticket["code"])

    held["on"] = True  # page A now misses the pushed changes, as if they were still on their way
    other = context.browser.new_context(viewport={"width": 1920, "height": 1080}, locale="de-DE")
    page_b = other.new_page()
    sign_in(page_b, live_server.url)
    expect(current(page_b)).to_have_text(ticket["code"])
    page_b.keyboard.press("s")
    expect(button(page_b, "finish")).to_be_enabled(timeout=TIMEOUT)
    page_b.keyboard.press("f")
    expect(button(page_b, "call-next")).to_be_enabled(timeout=TIMEOUT)
    other.close()
    assert status_of(live_server, ticket) == "done"

    expect(current(page_a)).to_have_text(ticket["code"])  # stale, as intended
    page_a.keyboard.press("s")
    expect(page_a.get_by_role("alert")).to_contain_text("cannot be started", timeout=TIMEOUT)
    expect(current(page_a)).not_to_have_text(ticket["code"], timeout=TIMEOUT)  # resynced from a snapshot
    expect(button(page_a, "start")).to_be_disabled()
    expect(button(page_a, "call-next")).to_be_enabled()
    screenshot(page_a, "counter-error")


def hold_pushed_changes(page, held: dict) -> None:
    """Route the page's Socket.IO websocket; while held['on'], drop `state` and `queue_changed` pushes
    (a fresh `snapshot` asked for by the page still gets through)."""
    def route(ws):
        server = ws.connect_to_server()
        ws.on_message(server.send)

        def to_page(message):
            text = message if isinstance(message, str) else ""
            if held["on"] and ('["state"' in text or '["queue_changed"' in text):
                return
            ws.send(message)

        server.on_message(to_page)

    page.route_web_socket(re.compile(r"/socket\.io/"), route)


def test_a_network_failure_shows_an_error_and_changes_nothing(browser, live_server, context):
    page = context.new_page()
    sign_in(page, live_server.url)
    ticket = live_server.issue("ausweis")
    expect(page.locator("#queue-rows tr")).to_have_count(1, timeout=TIMEOUT)
    page.route("**/api/v1/**", lambda route: route.abort("internetdisconnected"))
    page.keyboard.press("n")
    expect(page.get_by_role("alert")).not_to_be_empty(timeout=TIMEOUT)
    page.unroute("**/api/v1/**")
    expect(page.locator("#queue-rows tr .code")).to_have_text([ticket["code"]])
    expect(button(page, "call-next")).to_be_enabled()
    assert ticket_in_queue(live_server, ticket["code"])["state"] == "waiting"
    press_and_expect_code(page, "n", ticket["code"])
    expect(page.locator("#error")).to_be_empty()


def test_a_wrong_password_shows_an_error_and_stays_on_login(browser, live_server, context):
    page = context.new_page()
    page.goto(live_server.url + WORK)
    page.fill("#name", "erika")
    page.fill("#password", "not-the-password")
    page.keyboard.press("Enter")
    expect(page.locator("#login-error")).to_be_visible(timeout=TIMEOUT)
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_signed_out_visitors_are_sent_to_login(browser, live_server, context):
    page = context.new_page()
    page.goto(live_server.url + WORK)
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fcounter%2Fmitte%2Fschalter-1$"))


def test_an_unknown_counter_or_office_is_not_found(browser, live_server, context):
    page = context.new_page()
    sign_in(page, live_server.url)
    assert page.goto(live_server.url + "/counter/mitte/schalter-99").status == 404
    assert page.goto(live_server.url + "/counter/nowhere/").status == 404


def test_counter_and_login_pages_have_no_serious_accessibility_violations(browser, live_server):
    ticket = live_server.issue("ausweis")
    live_server.issue("abholung")

    def with_called_ticket(page):
        page.fill("#name", "erika")
        page.fill("#password", CLERK_PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(re.escape(WORK) + "$"), timeout=TIMEOUT)
        ready(page)
        press_and_expect_code(page, "n", ticket["code"])

    violations = axe_violations(browser, live_server.url + WORK, prepare=with_called_ticket)
    assert violations == [], describe(violations)
    violations = axe_violations(browser, live_server.url + "/login")
    assert violations == [], describe(violations)

"""XSS (issue 5): hostile office, service and counter names are shown as text on the kiosk, display, counter, the
admin pages and the citizen's status page, never run or parsed as markup.

Every page is opened twice: once as shipped (the CSP must be sent and nothing may trip it) and once in a context
that ignores the CSP, so that escaping alone has to hold: there a hole would fire a real `alert` dialog. On every
page: no dialog, no element or attribute made by a payload, no page error, no console error, no CSP violation,
and each payload visible literally where the name is shown.

Office names are set through the admin API (PATCH /offices/{office}), both before a page loads (server-rendered)
and while it is open (the live update).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_PASSWORD, CLERK_PASSWORD, screenshot, sign_in

pytestmark = pytest.mark.slow

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</script><script>alert(1)</script>",
    "{{7*7}}",
    "javascript:alert(1)",
]
LANGUAGES = ["de", "en", "tr", "ar", "uk", "ru"]
PREFIXES = "VWXYZ"  # the demo office uses A-D
SERVICES = [f"xss-{i}" for i in range(len(PAYLOADS))]
COUNTERS = [f"xss-desk-{i}" for i in range(len(PAYLOADS))]
TIMEOUT = 10_000
GRACE_MS = 800  # kiosk.js ignores touches this long after a screen appears
MODES = ["csp", "no-csp"]

# Test-only instrumentation (init scripts are not subject to the page's CSP): CSP violations the page reported.
RECORD_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`), true);
"""

# Anything a payload would have made if it had been parsed as HTML or run as script.
INJECTED = """() => {
  const bad = [];
  const all = [document.documentElement, ...document.querySelectorAll("*")];
  for (const el of all) {
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) bad.push(`${el.tagName} ${a.name}=${a.value}`);
      if (/^\\s*javascript:/i.test(a.value) && /^(href|src|action|formaction|xlink:href)$/i.test(a.name))
        bad.push(`${el.tagName} ${a.name}=${a.value}`);
    }
  }
  document.querySelectorAll('img[src="x"], svg[onload], img[onerror]').forEach(
    (el) => bad.push(`injected ${el.outerHTML}`));
  document.querySelectorAll('script:not([src])').forEach((el) => {
    if (el.type !== "application/json") bad.push(`inline script ${el.outerHTML.slice(0, 120)}`);
  });
  document.querySelectorAll('script[type="application/json"]').forEach((el) => {
    try { JSON.parse(el.textContent); } catch (e) { bad.push(`broken JSON block #${el.id}`); }
  });
  return bad;
}"""


def payload_of(service_or_counter: str) -> str:
    return PAYLOADS[int(service_or_counter.rsplit("-", 1)[1])]


@dataclass
class Watched:
    """A browser context (CSP enforced or bypassed) whose pages are watched for any sign of script injection."""

    mode: str
    context: object
    dialogs: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    documents: list = field(default_factory=list)  # (url, headers) of every HTML document loaded
    pages: list = field(default_factory=list)

    def new_page(self):
        page = self.context.new_page()
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        page.on("response", self._response)
        self.pages.append(page)
        return page

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _response(self, response):
        if response.request.resource_type == "document":
            self.documents.append((response.url, response.headers))

    def assert_clean(self, page, where: str) -> None:
        injected = page.evaluate(INJECTED)
        violations = page.evaluate("window.__csp")
        assert injected == [], f"[{self.mode}] {where}: elements or attributes made by a payload: {injected}"
        assert violations == [], f"[{self.mode}] {where}: CSP violations: {violations}"
        assert self.dialogs == [], f"[{self.mode}] {where}: dialogs opened: {self.dialogs}"
        assert self.errors == [], f"[{self.mode}] {where}: errors: {self.errors}"
        assert self.documents, f"[{self.mode}] {where}: no document loaded"
        for url, headers in self.documents:
            csp = headers.get("content-security-policy", "")
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp, f"{url}: CSP header {csp!r}"
            assert "object-src 'none'" in csp, f"{url}: CSP header {csp!r}"


@pytest.fixture
def watched(browser):
    made = []
    for mode in MODES:
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="de-DE",
                                  bypass_csp=(mode == "no-csp"))
        ctx.add_init_script(RECORD_CSP)
        made.append(Watched(mode, ctx))
    yield made
    for w in made:
        w.context.close()


def seed(live_server) -> None:
    """Five services named by a payload in every language, and five counters named by one each (serving all
    five, their own first)."""
    for slug, prefix, payload in zip(SERVICES, PREFIXES, PAYLOADS, strict=True):
        body = {"slug": slug, "prefix": prefix, "name": {lang: payload for lang in LANGUAGES}}
        r = live_server.api("POST", "/offices/mitte/services", json=body)
        assert r.status_code == 201, r.text
    for i, (slug, payload) in enumerate(zip(COUNTERS, PAYLOADS, strict=True)):
        services = SERVICES[i:] + SERVICES[:i]
        r = live_server.api("POST", "/offices/mitte/counters", json={"slug": slug, "name": payload,
                                                                      "services": services})
        assert r.status_code == 201, r.text
    names = {s["slug"]: s for s in live_server.api("GET", "/offices/mitte/services").json()}
    assert all(s in names for s in SERVICES)


def literal(scope, payload: str):
    """The payload shown as text, exactly, in at least one visible element of scope."""
    expect(scope.get_by_text(payload, exact=True).first).to_be_visible(timeout=TIMEOUT)


# --- kiosk: start screen in three languages, and the ticket screen --------------------------------------------


def test_kiosk_start_and_ticket_screens_show_hostile_names_as_text(live_server, watched):
    seed(live_server)
    for w in watched:
        for lang in ("de", "en", "ar"):
            page = w.new_page()
            page.goto(f"{live_server.url}/kiosk/mitte?token={live_server.tokens['KIOSK']}&return=60&lang={lang}")
            expect(page.locator("body[data-live=connected]")).to_be_attached(timeout=TIMEOUT)
            expect(page.locator("html")).to_have_attribute("lang", lang)
            expect(page.locator("h1")).to_have_text("Bürgerbüro Mitte")
            for slug in SERVICES:
                expect(page.locator(f'#services li[data-service="{slug}"] .service-name')).to_have_text(
                    payload_of(slug))
            for payload in PAYLOADS:
                literal(page.locator("#services"), payload)
            w.assert_clean(page, f"kiosk start ({lang})")
            if lang == "de":
                screenshot(page, f"xss-kiosk-start-{w.mode}")
                for slug in SERVICES:
                    page.locator(f'#services li[data-service="{slug}"] button').click()
                    expect(page.locator("#ticket")).to_be_visible()
                    expect(page.locator("#ticket-service")).to_have_text(payload_of(slug))
                    literal(page.locator("#ticket"), payload_of(slug))
                    w.assert_clean(page, f"kiosk ticket screen for {slug}")
                    page.wait_for_timeout(GRACE_MS + 200)
                    page.locator("#ticket-done").click()
                    expect(page.locator("#start")).to_be_visible()
            page.close()
    waiting = live_server.api("GET", "/offices/mitte/queue").json()["waiting"]
    assert sorted(t["service"] for t in waiting) == sorted(SERVICES * len(MODES))


# --- display (waiting counts, call list) and the status page (waiting, then called live) ----------------------


def test_display_and_status_page_show_hostile_names_as_text(live_server, watched):
    seed(live_server)
    tickets = [live_server.issue(slug, lang=["de", "en", "ar"][i % 3]) for i, slug in enumerate(SERVICES)]
    displays, statuses = [], []
    for w in watched:
        display = w.new_page()
        display.goto(f"{live_server.url}/display/mitte?token={live_server.tokens['DISPLAY']}")
        expect(display.locator("html")).to_have_attribute("data-connection", "online", timeout=TIMEOUT)
        for slug in SERVICES:
            row = display.locator("#waiting li", has=display.locator(".waiting-name", has_text=payload_of(slug)))
            expect(row.locator(".waiting-name")).to_have_text(payload_of(slug))
            expect(row.locator(".waiting-count")).to_have_text("1")
        displays.append((w, display))
        for ticket in tickets:
            page = w.new_page()
            page.goto(ticket["status_url"])
            expect(page.locator("body[data-live=connected]")).to_be_attached(timeout=TIMEOUT)
            expect(page.locator("#service")).to_have_text(ticket_payload(ticket))
            literal(page, ticket_payload(ticket))
            w.assert_clean(page, f"status page {ticket['code']} (waiting)")
            statuses.append((w, page, ticket))

    live_server.issue(SERVICES[0])  # the waiting counts change live too
    for _w, display in displays:
        row = display.locator("#waiting li", has=display.locator(".waiting-name", has_text=PAYLOADS[0]))
        expect(row.locator(".waiting-count")).to_have_text("2", timeout=TIMEOUT)

    called = {}
    for counter in COUNTERS:  # each counter serves its own service first
        ticket = live_server.call_next(counter)
        assert ticket and ticket["service"] == SERVICES[COUNTERS.index(counter)], ticket
        called[ticket["code"]] = counter

    for w, display in displays:
        for code, counter in called.items():
            line = display.locator("#calls .call", has=display.locator(".call-code", has_text=code))
            expect(line.locator(".call-counter")).to_have_text(payload_of(counter), timeout=TIMEOUT)
        for payload in PAYLOADS:
            literal(display.locator("#calls"), payload)
            literal(display.locator("#waiting"), payload)
        screenshot(display, f"xss-display-{w.mode}")
        w.assert_clean(display, "display with calls")

    for w, page, ticket in statuses:
        counter = called[ticket["code"]]
        expect(page.locator("#main")).to_have_attribute("data-state", "called", timeout=TIMEOUT)
        expect(page.locator("#counter")).to_have_text(payload_of(counter))
        expect(page.locator("#service")).to_have_text(ticket_payload(ticket))
        literal(page, payload_of(counter))
        assert payload_of(counter) in page.title()  # document.title, set from script, is text as well
        w.assert_clean(page, f"status page {ticket['code']} (called)")
    for w in watched:  # a fresh load of a called ticket: the server-rendered page, not the live update
        page = w.new_page()
        page.goto(tickets[0]["status_url"])
        expect(page.locator("#counter")).to_have_text(payload_of(COUNTERS[0]))
        expect(page.locator("#service")).to_have_text(PAYLOADS[0])
        screenshot(page, f"xss-status-called-{w.mode}")
        w.assert_clean(page, "status page reloaded (called)")


def ticket_payload(ticket: dict) -> str:
    return payload_of(ticket["service"])


# --- counter: pick list, queue, current ticket, parked list, transfer dialog ---------------------------------


def test_counter_page_shows_hostile_names_as_text(live_server, watched):
    seed(live_server)
    for slug in SERVICES:
        live_server.issue(slug)
        live_server.issue(slug)
    work = f"/counter/mitte/{COUNTERS[0]}"
    pages = []
    for w in watched:
        page = w.new_page()
        page.goto(live_server.url + "/counter/mitte/")
        page.fill("#name", "erika")
        page.fill("#password", CLERK_PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/counter/mitte/$"), timeout=TIMEOUT)
        for counter in COUNTERS:
            expect(page.locator(f'a.pick[href$="/{counter}"] .pick-name')).to_have_text(payload_of(counter))
        for payload in PAYLOADS:
            literal(page.locator(".pick-list"), payload)
            expect(page.locator(f'a.pick[href$="/{COUNTERS[0]}"] .pick-detail').first).to_contain_text(payload)
        w.assert_clean(page, "counter pick list")

        page.goto(live_server.url + work)
        expect(page.locator("#workspace")).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)
        expect(page.locator(".counter-name")).to_have_text(PAYLOADS[0])
        expect(page.locator("#queue-rows tr")).to_have_count(2 * len(SERVICES), timeout=TIMEOUT)
        for payload in PAYLOADS:
            expect(page.locator("#queue-rows td.service", has_text=payload)).to_have_count(2)
            literal(page.locator("#queue-rows"), payload)
        assert PAYLOADS[0] in page.title()
        w.assert_clean(page, "counter work page")
        pages.append((w, page))

    first_w, first = pages[0]
    first.keyboard.press("n")
    expect(first.locator("#current-service")).to_have_text(PAYLOADS[0], timeout=TIMEOUT)
    for w, page in pages:
        expect(page.locator("#current-service")).to_have_text(PAYLOADS[0], timeout=TIMEOUT)  # mode two: pushed
        literal(page.locator("#current-facts"), PAYLOADS[0])

        page.keyboard.press("t")
        dialog = page.locator("#transfer-dialog")
        expect(dialog).to_be_visible()
        options = page.locator("#transfer-target option").all_inner_texts()
        for slug, prefix in zip(SERVICES, PREFIXES, strict=True):
            assert f"{prefix} · {payload_of(slug)}" in options, options
        others = COUNTERS[1:]  # the dialog lists the other counters, not this one
        for counter in others:
            assert payload_of(counter) in options, options
        values = page.locator("#transfer-target option").evaluate_all("(os) => os.map((o) => o.value)")
        assert {f"service:{s}" for s in SERVICES} | {f"counter:{c}" for c in others} <= set(values)
        screenshot(page, f"xss-counter-transfer-{w.mode}")
        w.assert_clean(page, "counter transfer dialog")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()

    first.keyboard.press("s")
    expect(first.locator('#workspace button[data-action="park"]')).to_be_enabled(timeout=TIMEOUT)
    first.keyboard.press("p")
    for w, page in pages:
        expect(page.locator("#parked-list li .service")).to_have_text([PAYLOADS[0]], timeout=TIMEOUT)
        literal(page.locator("#parked-list"), PAYLOADS[0])
        screenshot(page, f"xss-counter-{w.mode}")
        w.assert_clean(page, "counter with a parked ticket")


# --- office names, and the admin's setup pages ------------------------------------------------------------------


def rename_office(live_server, name: str) -> None:
    r = live_server.api("PATCH", "/offices/mitte", json={"name": name})
    assert r.status_code == 200 and r.json()["name"] == name, r.text


def test_hostile_office_names_are_text_everywhere_and_live(live_server, watched):
    seed(live_server)
    live_server.proc.cli("user", "add", "ada", "--role", "admin", stdin=ADMIN_PASSWORD + "\n")
    ticket = live_server.issue(SERVICES[0])
    for w in watched:
        sign_in(w.new_page(), live_server.url, "/admin/mitte/services")
    for payload in PAYLOADS[:3]:
        rename_office(live_server, payload)
        for w in watched:
            kiosk = w.new_page()
            kiosk.goto(f"{live_server.url}/kiosk/mitte?token={live_server.tokens['KIOSK']}")
            expect(kiosk.locator("#start-title")).to_have_text(payload)
            w.assert_clean(kiosk, f"kiosk with office {payload!r}")
            status = w.new_page()
            status.goto(ticket["status_url"])
            literal(status, payload)
            w.assert_clean(status, f"status page with office {payload!r}")
            for path in ("/admin/mitte/services", "/admin/mitte/counters", "/admin/mitte/office",
                         "/admin/mitte/devices", "/admin/"):
                page = w.new_page()
                page.goto(live_server.url + path)
                expect(page.locator("[aria-busy='true']")).to_have_count(0, timeout=TIMEOUT)
                literal(page, payload)
                w.assert_clean(page, f"{path} with office {payload!r}")
                if path == "/admin/mitte/services":
                    for slug in SERVICES:
                        expect(page.locator(f"#service-rows tr[data-service='{slug}'] .name")).to_have_text(
                            payload_of(slug))
                if path == "/admin/mitte/counters":
                    for counter in COUNTERS:
                        expect(page.locator(f"#counter-rows tr[data-counter='{counter}'] .name")).to_have_text(
                            payload_of(counter))
                    screenshot(page, f"xss-admin-counters-{w.mode}")
                page.close()
            # the open kiosk takes the next name live, as text
            kiosk.evaluate("window.__same = true")
            nxt = PAYLOADS[(PAYLOADS.index(payload) + 1) % len(PAYLOADS)]
            rename_office(live_server, nxt)
            expect(kiosk.locator("#start-title")).to_have_text(nxt, timeout=TIMEOUT)
            assert kiosk.evaluate("window.__same") is True
            w.assert_clean(kiosk, f"kiosk renamed live to {nxt!r}")
            rename_office(live_server, payload)
            kiosk.close()
            status.close()
    for w in watched:  # the display and the counter pick list with the last name
        display = w.new_page()
        display.goto(f"{live_server.url}/display/mitte?token={live_server.tokens['DISPLAY']}")
        expect(display.locator(".office-name")).to_have_text(PAYLOADS[2], timeout=TIMEOUT)
        rename_office(live_server, PAYLOADS[0])
        expect(display.locator(".office-name")).to_have_text(PAYLOADS[0], timeout=TIMEOUT)
        w.assert_clean(display, "display renamed live")
        rename_office(live_server, PAYLOADS[2])

"""The waiting-room display: calls shown within a second and announced one after another, resync after a
server restart without a reload, pairing, accessibility, and screenshots for a person to look at."""

from __future__ import annotations

import io
import re
import threading
import time
import wave
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import CLERK_PASSWORD, axe_violations, describe, screenshot

pytestmark = pytest.mark.slow

CALLS = "#calls .call"
LATEST = "#calls .call.latest"
# Test-only instrumentation: which sounds the page started and finished, in order, with their times.
RECORD_PLAYBACK = """
window.__played = []; window.__ended = [];
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  window.__played.push({ src: this.src, t: performance.now() });
  return play.call(this);
};
document.addEventListener("ended", (e) => window.__ended.push({ src: e.target.src, t: performance.now() }), true);
"""


class AudioRequests:
    """Every spoken call the page downloads, in order: (monotonic time, code, counter, lang)."""

    def __init__(self, page):
        self.page, self.seen = page, []
        page.on("request", self._record)

    @staticmethod
    def _parse(url: str):
        if "/audio/call.wav" not in url:
            return None
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        return q.get("code"), q.get("counter"), q.get("lang")

    def _record(self, request):
        parsed = self._parse(request.url)
        if parsed:
            self.seen.append((time.monotonic(), *parsed))

    def wait_for(self, code: str, counter: str, lang: str = "de", timeout: float = 20) -> float:
        """The time the page asked for this call's sound, waiting for it if it has not yet."""
        want = (code, counter, lang)
        for t, *got in self.seen:
            if tuple(got) == want:
                return t
        self.page.wait_for_event("request", predicate=lambda r: self._parse(r.url) == want, timeout=timeout * 1000)
        return next(t for t, *got in self.seen if tuple(got) == want)


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / w.getframerate()


def played(page) -> list[dict]:
    return page.evaluate("window.__played")


def ended(page) -> list[dict]:
    return page.evaluate("window.__ended")


def open_display(context, live_server):
    context.add_init_script(RECORD_PLAYBACK)
    page = context.new_page()
    audio = AudioRequests(page)
    page.goto(f"{live_server.url}/display/mitte?token={live_server.tokens['DISPLAY']}")
    expect(page.locator("html")).to_have_attribute("data-connection", "online", timeout=10_000)
    return page, audio


@pytest.fixture
def display(context, live_server):
    return open_display(context, live_server)


def device_get(live_server, path: str, token: str = "DISPLAY", **params):
    return requests.get(live_server.url + path, params=params, timeout=30,
                        cookies={"qms_device": live_server.tokens[token]} if token else None)


def test_an_unpaired_screen_gets_401_with_pairing_help(live_server):
    page = requests.get(f"{live_server.url}/display/mitte", timeout=10)
    assert page.status_code == 401
    assert "device add" in page.text and "--kind display --office mitte" in page.text and "/pair" in page.text
    assert "--autoplay-policy=no-user-gesture-required" in page.text
    bad = requests.get(f"{live_server.url}/display/mitte?token=cq_wrong", timeout=10, allow_redirects=False)
    assert bad.status_code == 401 and "gilt nicht" in bad.text  # German, the default language
    assert requests.get(f"{live_server.url}/display/nowhere", timeout=10).status_code == 404


def test_a_device_token_in_the_link_moves_into_an_httponly_cookie(live_server):
    for name in ("DISPLAY", "KIOSK", "CLERK"):
        r = requests.get(f"{live_server.url}/display/mitte?token={live_server.tokens[name]}", timeout=10,
                         allow_redirects=False)
        assert r.status_code == 302 and r.headers["Location"].endswith("/display/mitte"), name
        assert "HttpOnly" in r.headers["Set-Cookie"]
    assert device_get(live_server, "/display/mitte").status_code == 200


def test_signed_in_staff_see_the_display_and_hear_its_calls_without_a_token(context, live_server):
    page = context.new_page()
    page.goto(f"{live_server.url}/login?next=/display/mitte")
    page.fill("#name", "erika")
    page.fill("#password", CLERK_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("html")).to_have_attribute("data-connection", "online", timeout=10_000)
    code = live_server.issue("ausweis")["code"]
    with page.expect_response(lambda r: "/audio/call.wav" in r.url and f"code={code}" in r.url, timeout=15_000) as got:
        live_server.call_next("schalter-1")
    assert got.value.status in (200, 206)
    expect(page.locator(f"{LATEST} .call-code")).to_have_text(code)


def test_audio_needs_a_paired_device_and_valid_input(live_server):
    call = "/display/mitte/audio/call.wav"
    assert device_get(live_server, "/display/audio/gong.wav", token=None).status_code == 401
    assert device_get(live_server, call, token=None, code="A042", counter="schalter-3", lang="de").json()[
        "error"]["code"] == "unauthorized"
    gong = device_get(live_server, "/display/audio/gong.wav")
    assert gong.status_code == 200 and gong.headers["Content-Type"] == "audio/wav"
    assert "max-age" in gong.headers["Cache-Control"] and 1.5 < wav_seconds(gong.content) < 4
    spoken = device_get(live_server, call, code="A042", counter="schalter-3", lang="tr")
    assert spoken.status_code == 200 and "max-age" in spoken.headers["Cache-Control"]
    assert wav_seconds(spoken.content) > 1
    for params, status, code in [
        ({"code": "a042", "counter": "schalter-3", "lang": "de"}, 422, "invalid_code"),
        ({"code": "A042\n", "counter": "schalter-3", "lang": "de"}, 422, "invalid_code"),
        ({"code": "ABCD1", "counter": "schalter-3", "lang": "de"}, 422, "invalid_code"),
        ({"code": "A042", "counter": "schalter-9", "lang": "de"}, 404, "counter_not_found"),
        ({"code": "A042", "counter": "schalter-3", "lang": "xx"}, 422, "invalid_language"),
        ({"code": "A042", "counter": "schalter-3"}, 422, "invalid_language"),
    ]:
        r = device_get(live_server, call, **params)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), params
    other = device_get(live_server, "/display/elsewhere/audio/call.wav", code="A1", counter="x", lang="de")
    assert other.status_code == 404 and other.json()["error"]["code"] == "office_not_found"


def test_idle_display_shows_office_clock_and_waiting_counts(display, live_server):
    page, _ = display
    expect(page.locator(".office-name")).to_have_text("Bürgerbüro Mitte")
    expect(page.locator("#waiting li")).to_have_count(4)
    expect(page.locator("#no-calls")).to_be_visible()
    page.wait_for_function("""() => document.getElementById("clock-time").textContent === new Intl.DateTimeFormat(
        "de", {timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit", hourCycle: "h23"}).format(new Date())""",
                           timeout=3000)
    live_server.issue("meldewesen")
    melde = page.locator("#waiting li", has_text="An-, Um- und Abmeldung")
    expect(melde).to_contain_text("1", timeout=2000)
    # Each service's estimated wait for a ticket drawn now, in words, under its name.
    expect(melde.locator(".waiting-estimate")).to_have_text("Voraussichtliche Wartezeit: Kein Schalter geöffnet")
    live_server.api("POST", "/offices/mitte/counters/schalter-3/open")
    expect(melde.locator(".waiting-estimate")).to_have_text(
        re.compile(r"^Voraussichtliche Wartezeit: ca\. \d+–\d+ Min\.$"), timeout=2000)
    live_server.api("POST", "/offices/mitte/counters/schalter-1/open")  # idle, nobody waiting for its services
    abholung = page.locator("#waiting li", has_text="Abholung von Dokumenten")
    expect(abholung.locator(".waiting-estimate")).to_have_text("Voraussichtliche Wartezeit: weniger als 1 Min.",
                                                               timeout=2000)
    screenshot(page, "display-idle")


def test_a_call_is_shown_within_a_second_and_announced(display, live_server):
    page, audio = display
    code = live_server.issue("meldewesen")["code"]
    started = time.monotonic()
    live_server.call_next("schalter-3")
    expect(page.locator(f"{LATEST} .call-code")).to_have_text(code, timeout=1000)
    assert time.monotonic() - started < 1.0
    expect(page.locator(f"{LATEST} .call-counter")).to_have_text("Schalter 3")
    audio.wait_for(code, "schalter-3", "de")
    spoken = f"{code[0]} {int(code[1:])}"  # B001 -> "B 1"
    expect(page.locator("#announcement")).to_have_text(f"Nummer {spoken}, bitte zu Schalter 3", timeout=5000)
    expect(page.locator("#announcement")).to_have_attribute("aria-live", "assertive")


def test_two_counters_calling_at_once_are_both_shown_and_announced_in_turn(display, live_server):
    page, audio = display
    for _ in range(2):
        live_server.issue("ausweis")
    results = {}
    workers = [threading.Thread(target=lambda c=c: results.update({c: live_server.call_next(c)}))
               for c in ("schalter-1", "schalter-2")]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    expect(page.locator(CALLS)).to_have_count(2, timeout=2000)
    shown = page.locator(f"{CALLS} .call-code").all_inner_texts()  # newest first
    assert sorted(shown) == sorted(t["code"] for t in results.values())
    counter_of = {t["code"]: c for c, t in results.items()}
    first, second = shown[1], shown[0]  # announced oldest first
    t1 = audio.wait_for(first, counter_of[first])
    expect(page.locator(f"{CALLS}.announcing .call-code")).to_have_text(first)  # the line being read out
    screenshot(page, "display-announcing")
    t2 = audio.wait_for(second, counter_of[second])
    gong = wav_seconds(device_get(live_server, "/display/audio/gong.wav").content)
    phrase = wav_seconds(device_get(live_server, "/display/mitte/audio/call.wav", code=first,
                                    counter=counter_of[first], lang="de").content)
    assert t2 - t1 >= phrase + gong - 0.3, "the second call must wait until the first was spoken"
    expect(page.locator("#announcement")).to_contain_text(f"{second[0]} {int(second[1:])}", timeout=10_000)
    page.wait_for_function("() => window.__played.length >= 4", timeout=10_000)
    starts, ends = played(page), ended(page)
    assert [p["src"].split("/")[-1].split("?")[0] for p in starts[:4]] == ["gong.wav", "call.wav"] * 2
    for i in range(1, min(len(starts), len(ends) + 1)):
        assert starts[i]["t"] >= ends[i - 1]["t"], "one sound at a time, each after the previous ended"


def test_the_ticket_language_is_spoken_after_the_office_language(display, live_server):
    page, audio = display
    code = live_server.issue("ausweis", lang="tr")["code"]
    live_server.call_next("schalter-1")
    german = audio.wait_for(code, "schalter-1", "de")
    turkish = audio.wait_for(code, "schalter-1", "tr")
    assert turkish > german
    assert [lang for _, c, _, lang in audio.seen if c == code] == ["de", "tr"]


def test_a_recall_is_shown_and_announced_again(display, live_server):
    page, audio = display
    ticket = live_server.issue("ausweis")
    live_server.call_next("schalter-1")
    audio.wait_for(ticket["code"], "schalter-1")
    page.wait_for_function("() => window.__ended.some(e => e.src.includes('call.wav'))", timeout=15_000)
    r = live_server.api("POST", f"/tickets/{ticket['id']}/recall", "CLERK")
    assert r.status_code == 200, r.text
    expect(page.locator(f"{LATEST} .call-again")).to_have_text("Erneuter Aufruf", timeout=1000)
    expect(page.locator(CALLS)).to_have_count(1)  # one line per ticket, not one per call
    screenshot(page, "display-recall")
    page.wait_for_function(
        f"() => window.__played.filter(p => p.src.includes('code={ticket['code']}')).length === 2", timeout=15_000)


def test_the_list_stays_capped_and_shows_calls_newest_first(display, live_server):
    page, _ = display
    services = ["ausweis", "meldewesen", "abholung", "beglaubigung"]
    counters = ["schalter-1", "schalter-2", "schalter-4", "schalter-3"]
    codes = []
    for i in range(8):
        live_server.issue(services[i % 4])
        codes.append(live_server.call_next(counters[i % 4])["code"])
    expect(page.locator(f"{LATEST} .call-code")).to_have_text(codes[-1], timeout=2000)
    expect(page.locator(CALLS)).to_have_count(6)
    assert page.locator(f"{CALLS} .call-code").all_inner_texts() == codes[::-1][:6]
    for i in range(3):
        live_server.issue(services[i])
    expect(page.locator("#waiting li").first).to_contain_text("1", timeout=2000)
    screenshot(page, "display-calls")


def test_display_resyncs_after_a_server_restart_without_reloading(display, live_server):
    page, audio = display
    page.evaluate("window.__marker = 'loaded once'")
    origin = page.evaluate("performance.timeOrigin")
    live_server.proc.stop()
    expect(page.locator("#connection")).to_be_visible(timeout=10_000)
    screenshot(page, "display-disconnected")
    live_server.proc.start()
    code = live_server.issue("abholung")["code"]
    live_server.call_next("schalter-4")  # perhaps before the display is back: then the resync must announce it
    expect(page.locator(f"{LATEST} .call-code")).to_have_text(code, timeout=15_000)
    expect(page.locator("#connection")).to_be_hidden()
    audio.wait_for(code, "schalter-4")
    later = live_server.issue("abholung")["code"]
    live_server.call_next("schalter-1")
    expect(page.locator(f"{LATEST} .call-code")).to_have_text(later, timeout=2000)
    assert page.evaluate("window.__marker") == "loaded once"
    assert page.evaluate("performance.timeOrigin") == origin
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_a_call_missed_while_offline_is_announced_after_the_resync(display, live_server, context):
    page, audio = display
    context.set_offline(True)
    expect(page.locator("html")).to_have_attribute("data-connection", "offline", timeout=10_000)
    code = live_server.issue("ausweis")["code"]
    live_server.call_next("schalter-2")
    context.set_offline(False)
    expect(page.locator(f"{LATEST} .call-code")).to_have_text(code, timeout=15_000)
    audio.wait_for(code, "schalter-2")


def test_only_calls_younger_than_a_minute_count_as_missed(display):
    page, _ = display
    result = page.evaluate("""async () => {
      const { missedCalls, mergeCalls } = await import('/display/static/display/calls.js');
      const now = Date.parse('2026-03-02T10:00:00Z');
      const calls = [
        { seq: 9, code: 'A3', at: '2026-03-02T09:59:30Z' },
        { seq: 8, code: 'A2', at: '2026-03-02T09:59:50Z' },
        { seq: 7, code: 'A1', at: '2026-03-02T09:58:30Z' },
        { seq: 5, code: 'B1', at: '2026-03-02T09:59:55Z' },
      ];
      return { missed: missedCalls(calls, 6, now).map(c => c.code),
               merged: mergeCalls(calls, [{ seq: 10, code: 'A1' }]).map(c => c.code) };
    }""")
    assert result == {"missed": ["A2", "A3"], "merged": ["A1", "A3", "A2", "B1"]}


def test_display_with_calls_has_no_serious_accessibility_violations(browser, live_server):
    for service, counter in [("ausweis", "schalter-1"), ("meldewesen", "schalter-2"), ("abholung", "schalter-4")]:
        live_server.issue(service)
        live_server.call_next(counter)

    def calls_shown(page):
        expect(page.locator(CALLS)).to_have_count(3, timeout=10_000)

    violations = axe_violations(browser, f"{live_server.url}/display/mitte?token={live_server.tokens['DISPLAY']}",
                                prepare=calls_shown)
    assert violations == [], describe(violations)
    help_page = axe_violations(browser, f"{live_server.url}/display/mitte")
    assert help_page == [], describe(help_page)

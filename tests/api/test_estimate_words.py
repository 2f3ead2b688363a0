"""How an estimate reads where citizens see it: the status page, the printed ticket and the waiting-room display.

The JSON keeps its range ({"low", "high"} minutes, low < high but for 0–0); the words are the pages' and the
ticket's own. The shortest ranges, 0–1 and 0–0 (a free counter whose clerks call at once), read "less than 1 min.";
without an open counter the page says so instead of a number.
"""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from server.printing.content import ticket_content
from server.realtime.snapshots import display_state
from server.services import queries
from server.web.i18n import estimate_text

from .helpers import call_next, issue, public_token

FACTS = {"lang": "de", "issued_at": "2026-11-26T09:00:00+00:00", "timezone": "Europe/Berlin", "office": "Mitte",
         "code": "A001", "service": "Personalausweis", "people_ahead": 0, "status_url": "http://localhost/t/x"}


@pytest.mark.parametrize(("lang", "estimate", "text"), [
    ("de", {"low": 0, "high": 1}, "weniger als 1 Min."),
    ("de", {"low": 0, "high": 0}, "weniger als 1 Min."),
    ("en", {"low": 0, "high": 1}, "less than 1 min."),
    ("ar", {"low": 0, "high": 1}, "أقل من دقيقة"),
    ("de", {"low": 0, "high": 3}, "ca. 0–3 Min."),
    ("tr", {"low": 5, "high": 12}, "yaklaşık 5–12 dk."),
    ("de", {"low": None, "high": None, "reason": "no_counter_open"}, "Kein Schalter geöffnet"),
    ("de", None, ""),
])
def test_an_estimate_in_words(app, lang, estimate, text):
    with app.test_request_context(), force_locale(lang):
        assert estimate_text(estimate) == text


def test_the_printed_ticket_says_less_than_a_minute_or_nothing_without_a_counter(app):
    with app.app_context():
        soon = ticket_content(FACTS | {"estimate": {"low": 0, "high": 1}})
        later = ticket_content(FACTS | {"estimate": {"low": 4, "high": 9}})
        none = ticket_content(FACTS | {"estimate": None})
    assert soon.estimate_label == "Voraussichtliche Wartezeit: weniger als 1 Min."
    assert later.estimate_label == "Voraussichtliche Wartezeit: ca. 4–9 Min."
    assert none.estimate_label is None


def test_the_status_page_shows_the_estimate_in_words_from_the_first_byte(api):
    # Drawn before JavaScript runs: no "None–None" without a counter, words for the shortest wait.
    closed = issue(api, lang="de")
    page = api.client.get(f"/t/{public_token(closed)}").get_data(as_text=True)
    assert '<dd id="estimate">Kein Schalter geöffnet</dd>' in page and "None" not in page
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    call_next(api)  # the counter is busy with `closed`; the next in line waits for it
    nxt = issue(api, lang="de")
    page = api.client.get(f"/t/{public_token(nxt)}").get_data(as_text=True)
    low, high = nxt["estimate"]["low"], nxt["estimate"]["high"]
    assert 0 <= low < high and f'<dd id="estimate">ca. {low}–{high} Min.</dd>' in page


def test_the_display_state_has_each_services_estimate_for_a_ticket_drawn_now(app, api, sqlite_ctx):
    def state() -> dict:
        with sqlite_ctx.db.read_session() as session:
            office = queries.office_by_slug(session, "mitte")
            return {w["service"]: w for w in display_state(session, office, sqlite_ctx.clock())["waiting"]}

    before = state()
    assert before["ausweis"]["estimate"] == {"low": None, "high": None, "reason": "no_counter_open"}
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    for _ in range(3):
        issue(api)
    after = state()
    assert after["ausweis"]["waiting"] == 3
    low, high = after["ausweis"]["estimate"]["low"], after["ausweis"]["estimate"]["high"]
    assert 0 < low < high  # three ahead of a new ticket at one counter
    # A service that issues no tickets now shows a count but no estimate.
    assert api.post("/offices/mitte/services/abholung/issuing", "supervisor", json={"open": False}).status_code == 200
    assert state()["abholung"]["estimate"] is None

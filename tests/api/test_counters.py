"""Counters through the API: listing, opening, pausing, closing, and what the services list shows."""

from __future__ import annotations

import pytest

from .helpers import call_next, counter_states, issue, office_seqs


def test_the_demo_counters_are_listed_closed_with_their_services_in_order(api):
    listed = api.get("/offices/mitte/counters", "clerk").get_json()
    assert [c["slug"] for c in listed] == ["schalter-1", "schalter-2", "schalter-3", "schalter-4"]
    assert {c["slug"]: c["services"] for c in listed} == {
        "schalter-1": ["ausweis", "abholung"],
        "schalter-2": ["ausweis", "meldewesen"],
        "schalter-3": ["meldewesen", "beglaubigung", "ausweis"],
        "schalter-4": ["abholung", "beglaubigung"],
    }
    assert {c["state"] for c in listed} == {"closed"}
    assert {c["current"] for c in listed} == {None}


@pytest.mark.parametrize(("verb", "state"), [("open", "open"), ("pause", "paused"), ("close", "closed")])
def test_open_pause_and_close_set_the_counter_state(api, verb, state):
    if verb == "close":
        api.post("/offices/mitte/counters/schalter-2/open", "clerk")
    resp = api.post(f"/offices/mitte/counters/schalter-2/{verb}", "clerk")
    assert resp.status_code == 200
    assert resp.get_json() == {"slug": "schalter-2", "name": "Schalter 2", "state": state,
                               "services": ["ausweis", "meldewesen"]}
    assert counter_states(api) == {"schalter-1": "closed", "schalter-2": state, "schalter-3": "closed",
                                   "schalter-4": "closed"}


def test_setting_the_state_a_counter_already_has_changes_nothing(api):
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    seq = office_seqs(api)
    resp = api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    assert resp.status_code == 200 and resp.get_json()["state"] == "open"
    assert office_seqs(api) == seq


def test_the_counter_list_shows_the_ticket_being_served(api):
    t = issue(api)
    call_next(api, "schalter-2")
    current = {c["slug"]: c["current"] for c in api.get("/offices/mitte/counters", "clerk").get_json()}
    assert current["schalter-2"] == "A001" and current["schalter-1"] is None
    api.post(f"/tickets/{t['id']}/start", "clerk")
    api.post(f"/tickets/{t['id']}/finish", "clerk")
    current = {c["slug"]: c["current"] for c in api.get("/offices/mitte/counters", "clerk").get_json()}
    assert current["schalter-2"] is None


def test_the_services_list_counts_waiting_tickets_and_open_counters(api):
    for service in ("ausweis", "ausweis", "abholung"):
        issue(api, service)
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    api.post("/offices/mitte/counters/schalter-2/open", "clerk")
    listed = {s["slug"]: s for s in api.get("/offices/mitte/services", "kiosk").get_json()}
    assert [s for s in listed] == ["ausweis", "meldewesen", "abholung", "beglaubigung"]
    assert {slug: (s["waiting"], s["open_counters"]) for slug, s in listed.items()} == {
        "ausweis": (2, 2), "meldewesen": (0, 1), "abholung": (1, 1), "beglaubigung": (0, 0)}
    assert all(s["issuing"] for s in listed.values())
    # schalter-2 takes ausweis (its first level) before meldewesen, so both wait for the two ausweis tickets
    assert listed["ausweis"]["estimate"]["high"] >= listed["meldewesen"]["estimate"]["high"] > 1
    assert listed["beglaubigung"]["estimate"] == {"low": None, "high": None, "reason": "no_counter_open"}


def test_the_services_list_speaks_the_requested_language(api):
    en = {s["slug"]: s["name"] for s in api.get("/offices/mitte/services?lang=en", "kiosk").get_json()}
    de = {s["slug"]: s["name"] for s in api.get("/offices/mitte/services", "kiosk").get_json()}
    assert en["ausweis"] == "ID card and passport"
    assert de["ausweis"] == "Personalausweis und Reisepass"
    nord = {s["slug"]: s["name"] for s in api.get("/offices/nord/services?lang=uk", "kiosk_nord").get_json()}
    assert nord["allgemein"] == "Allgemeine Anliegen"  # no Ukrainian name: the office's language


def test_a_clerk_of_one_office_cannot_open_a_counter_of_another(api):
    resp = api.post("/offices/nord/counters/platz-1/open", "clerk")
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "wrong_office"
    assert counter_states(api, "nord") == {"platz-1": "closed"}

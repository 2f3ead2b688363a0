"""Issuing tickets and every clerk action on them, through the REST API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from .helpers import (
    act,
    assert_error,
    body_text,
    call_next,
    counter_states,
    find_ticket,
    issue,
    public_token,
    queue,
    snapshot,
    waiting_codes,
)

CONTRACT_FIELDS = {"id", "code", "office", "service", "state", "counter", "created_at", "called_at", "started_at",
                   "finished_at", "position", "estimate", "status_url"}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- issuing ------------------------------------------------------------------------------------------------
def test_issuing_returns_201_with_every_contract_field(api, clock):
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")  # with no counter open there is no estimate
    resp = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"})
    assert resp.status_code == 201, body_text(resp)
    t = resp.get_json()
    assert set(t) >= CONTRACT_FIELDS, CONTRACT_FIELDS - set(t)
    assert isinstance(t["id"], int) and t["id"] > 0
    assert (t["code"], t["office"], t["service"], t["state"]) == ("A001", "mitte", "ausweis", "waiting")
    assert t["counter"] is None
    assert t["created_at"] == iso(clock()) == "2026-11-26T09:00:00Z"
    assert t["called_at"] is t["started_at"] is t["finished_at"] is None
    assert t["position"] == 1
    assert set(t["estimate"]) == {"low", "high"}
    low, high = t["estimate"]["low"], t["estimate"]["high"]
    assert isinstance(low, int) and isinstance(high, int) and 0 <= low < high
    assert t["status_url"].startswith("http://localhost/t/")
    assert len(public_token(t)) >= 16


def test_a_later_ticket_has_a_higher_position_and_a_longer_estimate(api):
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    first = issue(api)
    second = issue(api)
    assert (first["position"], second["position"]) == (1, 2)
    assert second["estimate"]["low"] >= first["estimate"]["low"]
    assert second["estimate"]["high"] > first["estimate"]["high"]


def test_codes_count_up_per_service_whoever_issues(api):
    codes = [issue(api, "ausweis", role)["code"] for role in ("kiosk", "agent", "clerk", "supervisor", "admin")]
    assert codes == ["A001", "A002", "A003", "A004", "A005"]
    assert [issue(api, s)["code"] for s in ("meldewesen", "abholung", "beglaubigung", "meldewesen")] == [
        "B001", "C001", "D001", "B002"]
    assert issue(api, "allgemein", "kiosk_nord", "nord")["code"] == "N01"  # range 1-99: two digits


def test_numbering_restarts_at_midnight_in_the_offices_time_zone(api, clock):
    clock.set(datetime(2026, 11, 26, 22, 58, tzinfo=UTC))  # 23:58 in Berlin
    assert [issue(api)["code"] for _ in range(2)] == ["A001", "A002"]
    clock.advance(minutes=3)  # 00:01 on 27 November in Berlin, still the 26th in UTC
    late = issue(api)
    assert late["code"] == "A001"
    assert waiting_codes(api).count("A001") == 2  # yesterday's tickets are kept


def test_the_same_request_id_gives_the_same_ticket_with_200(api):
    first = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis", "request_id": "tap-1"})
    again = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis", "request_id": "tap-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["code"] == "A001"
    assert waiting_codes(api) == ["A001"]
    other = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis", "request_id": "tap-2"})
    assert other.status_code == 201 and other.get_json()["code"] == "A002"


def test_a_retry_with_a_known_request_id_changes_nothing(api):
    issue(api, request_id="tap-1")
    before = snapshot(api)
    for _ in range(3):
        resp = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis", "request_id": "tap-1"})
        assert resp.status_code == 200
    assert snapshot(api) == before


def test_a_request_id_is_scoped_to_its_office(api):
    mitte = issue(api, request_id="tap-1")
    nord = issue(api, "allgemein", "kiosk_nord", "nord", request_id="tap-1")
    assert nord["id"] != mitte["id"] and nord["code"] == "N01"


def test_the_daily_cap_refuses_the_sixth_ticket_with_409(api):
    codes = [issue(api, "allgemein", "kiosk_nord", "nord")["code"] for _ in range(5)]
    assert codes == ["N01", "N02", "N03", "N04", "N05"]
    before = queue(api, "nord")
    resp = api.post("/offices/nord/tickets", "kiosk_nord", json={"service": "allgemein"})
    assert_error(resp, 409, "daily_cap_reached")
    assert queue(api, "nord") == before
    stats = api.get("/offices/nord/stats", "supervisor_nord").get_json()["total"]
    assert (stats["issued"], stats["refused"]) == (5, 1)  # the refusal is a fact for the statistics



def test_a_retry_of_the_last_ticket_before_the_cap_still_gets_its_ticket(api):
    issued = [issue(api, "allgemein", "kiosk_nord", "nord", request_id=f"tap-{i}") for i in range(5)]
    resp = api.post("/offices/nord/tickets", "kiosk_nord", json={"service": "allgemein", "request_id": "tap-4"})
    assert resp.status_code == 200, body_text(resp)
    assert resp.get_json()["id"] == issued[-1]["id"]
    stats = api.get("/offices/nord/stats", "supervisor_nord").get_json()["total"]
    assert stats["refused"] == 0  # a retry is not a refusal


def test_the_daily_cap_opens_again_the_next_day(api, clock):
    for _ in range(5):
        issue(api, "allgemein", "kiosk_nord", "nord")
    clock.advance(days=1)
    assert issue(api, "allgemein", "kiosk_nord", "nord")["code"] == "N01"


def test_an_unknown_language_is_422_and_a_known_one_names_the_service_in_it(api):
    before = snapshot(api)
    assert_error(api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis", "lang": "xx"}),
                 422, "invalid_lang")
    assert snapshot(api) == before
    t = issue(api, lang="en")
    assert (t["lang"], t["service_name"]) == ("en", "ID card and passport")


def test_a_priority_ticket_is_called_before_an_older_normal_one(api, clock):
    issue(api)
    clock.advance(minutes=1)
    urgent = issue(api, priority="priority_need")
    assert urgent["position"] == 1
    assert call_next(api)["code"] == "A002"


# --- calling --------------------------------------------------------------------------------------------------
def test_call_next_calls_the_longest_waiting_ticket_to_the_counter(api, clock):
    issue(api)
    clock.advance(minutes=2)
    issue(api)
    clock.advance(minutes=3)
    t = call_next(api)
    assert (t["code"], t["state"], t["counter"], t["call_count"]) == ("A001", "called", "schalter-1", 1)
    assert t["called_at"] == "2026-11-26T09:05:00Z"
    assert t["position"] is None and t["estimate"] is None
    assert [x["code"] for x in queue(api)["called"]] == ["A001"]


def test_two_counters_calling_get_different_tickets(api):
    issue(api)
    issue(api)
    a, b = call_next(api, "schalter-1"), call_next(api, "schalter-2")
    assert {a["code"], b["code"]} == {"A001", "A002"}
    assert api.post("/offices/mitte/counters/schalter-3/call-next", "clerk").status_code == 204


def test_call_next_with_nobody_waiting_is_204_and_still_opens_the_counter(api):
    assert counter_states(api)["schalter-1"] == "closed"
    resp = api.post("/offices/mitte/counters/schalter-1/call-next", "clerk")
    assert resp.status_code == 204
    assert resp.get_data() == b""
    assert counter_states(api)["schalter-1"] == "open"


@pytest.mark.parametrize("verb", ["close", "pause"])
def test_call_next_on_a_closed_or_paused_counter_opens_it(api, verb):
    issue(api)
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    assert api.post(f"/offices/mitte/counters/schalter-1/{verb}", "clerk").status_code == 200
    assert counter_states(api)["schalter-1"] != "open"
    assert call_next(api)["code"] == "A001"
    assert counter_states(api)["schalter-1"] == "open"


def test_a_counter_serves_its_first_service_before_its_second(api, clock):
    issue(api, "abholung")  # older, but schalter-1 serves ausweis first
    clock.advance(minutes=1)
    issue(api, "ausweis")
    assert [call_next(api, "schalter-1")["code"] for _ in range(2)] == ["A001", "C001"]


def test_schalter_4_serves_abholung_before_beglaubigung(api, clock):
    issue(api, "beglaubigung")
    clock.advance(minutes=1)
    issue(api, "abholung")
    assert [call_next(api, "schalter-4")["code"] for _ in range(2)] == ["C001", "D001"]


def test_a_ticket_past_its_target_wait_is_taken_first(api, clock):
    issue(api, "abholung")  # target wait 10 minutes
    clock.advance(minutes=1)
    issue(api, "ausweis")  # target wait 30 minutes
    clock.advance(minutes=10)  # C001 has waited 11 minutes: overdue; A001 10 minutes: not
    assert call_next(api, "schalter-1")["code"] == "C001"


def test_a_counter_never_calls_a_service_it_does_not_serve(api):
    issue(api, "meldewesen")
    before = queue(api)
    assert api.post("/offices/mitte/counters/schalter-1/call-next", "clerk").status_code == 204
    assert queue(api) == before
    assert call_next(api, "schalter-2")["code"] == "B001"


# --- the actions ----------------------------------------------------------------------------------------------
def test_recall_calls_again_and_counts_the_call(api, clock):
    t = issue(api)
    first = call_next(api)
    clock.advance(minutes=2)
    again = act(api, t["id"], "recall")
    assert (again["state"], again["counter"], again["call_count"]) == ("called", "schalter-1", 2)
    assert again["called_at"] == first["called_at"]  # the wait ended with the first call
    assert act(api, t["id"], "recall")["call_count"] == 3


def test_start_then_finish_serves_the_ticket(api, clock):
    t = issue(api)
    call_next(api)
    clock.advance(minutes=1)
    started = act(api, t["id"], "start")
    assert (started["state"], started["started_at"]) == ("serving", "2026-11-26T09:01:00Z")
    assert [x["code"] for x in queue(api)["serving"]] == ["A001"]
    clock.advance(minutes=7)
    done = act(api, t["id"], "finish")
    assert (done["state"], done["finished_at"]) == ("done", "2026-11-26T09:08:00Z")
    assert find_ticket(api, t["id"]) is None


def test_no_show_ends_a_called_ticket(api):
    t = issue(api)
    call_next(api)
    gone = act(api, t["id"], "no-show")
    assert gone["state"] == "no_show" and gone["finished_at"] == "2026-11-26T09:00:00Z"
    assert find_ticket(api, t["id"]) is None
    assert api.post("/offices/mitte/counters/schalter-1/call-next", "clerk").status_code == 204


def test_requeue_back_puts_the_ticket_behind_everyone(api, clock):
    a1 = issue(api)
    issue(api)
    issue(api)
    call_next(api)
    clock.advance(minutes=1)
    back = act(api, a1["id"], "requeue")
    assert (back["state"], back["counter"], back["position"]) == ("waiting", None, 3)
    assert waiting_codes(api) == ["A002", "A003", "A001"]


def test_requeue_front_puts_the_ticket_ahead_of_everyone(api, clock):
    issue(api)
    a2 = issue(api)
    issue(api)
    call_next(api, "schalter-1")
    call_next(api, "schalter-2")
    clock.advance(minutes=1)
    front = act(api, a2["id"], "requeue", position="front")
    assert (front["state"], front["position"]) == ("waiting", 1)
    assert waiting_codes(api) == ["A002", "A003"]
    assert call_next(api, "schalter-3")["code"] == "A002"


def test_park_and_call_back_to_another_counter(api, clock):
    t = issue(api)
    call_next(api)
    act(api, t["id"], "start")
    parked = act(api, t["id"], "park")
    assert parked["state"] == "parked"
    assert [x["code"] for x in queue(api)["parked"]] == ["A001"]
    assert api.post("/offices/mitte/counters/schalter-2/call-next", "clerk").status_code == 204  # not waiting
    clock.advance(minutes=15)
    resp = api.post("/offices/mitte/counters/schalter-3/call", "clerk", json={"ticket": t["id"]})
    assert resp.status_code == 200, body_text(resp)
    back = resp.get_json()
    assert (back["state"], back["counter"], back["call_count"]) == ("called", "schalter-3", 2)
    assert act(api, t["id"], "start")["state"] == "serving"
    assert act(api, t["id"], "finish")["state"] == "done"


def test_calling_a_given_waiting_ticket_skips_the_queue(api):
    issue(api)
    a2 = issue(api)
    resp = api.post("/offices/mitte/counters/schalter-1/call", "clerk", json={"ticket": a2["id"]})
    assert resp.status_code == 200
    assert (resp.get_json()["code"], resp.get_json()["counter"]) == ("A002", "schalter-1")
    assert waiting_codes(api) == ["A001"]


def test_cancel_removes_a_waiting_ticket(api):
    t = issue(api)
    issue(api)
    cancelled = act(api, t["id"], "cancel")
    assert (cancelled["state"], cancelled["finished_at"]) == ("cancelled", "2026-11-26T09:00:00Z")
    assert waiting_codes(api) == ["A002"]
    ausweis = next(s for s in api.get("/offices/mitte/services", "kiosk").get_json() if s["slug"] == "ausweis")
    assert ausweis["waiting"] == 1


@pytest.mark.parametrize(("position", "order"), [("back", ["B001", "A001"]), ("front", ["A001", "B001"])])
def test_transfer_to_a_service_keeps_the_code_and_queues_it_there(api, clock, position, order):
    issue(api, "meldewesen")
    clock.advance(minutes=1)
    t = issue(api, "ausweis")
    call_next(api, "schalter-1")
    clock.advance(minutes=1)
    moved = act(api, t["id"], "transfer", service="meldewesen", position=position)
    assert (moved["state"], moved["service"], moved["code"], moved["counter"]) == (
        "waiting", "meldewesen", "A001", None)
    assert moved["position"] == order.index("A001") + 1
    assert waiting_codes(api) == order
    assert [call_next(api, "schalter-3")["code"] for _ in range(2)] == order  # schalter-3 serves meldewesen first


def test_transfer_to_a_counter_is_called_only_there(api, clock):
    t = issue(api)
    issue(api)
    call_next(api, "schalter-1")
    clock.advance(minutes=1)
    moved = act(api, t["id"], "transfer", counter="schalter-4")
    assert (moved["state"], moved["target_counter"], moved["code"]) == ("waiting", "schalter-4", "A001")
    assert call_next(api, "schalter-2")["code"] == "A002"  # ausweis counters do not take it
    assert api.post("/offices/mitte/counters/schalter-2/call-next", "clerk").status_code == 204
    taken = call_next(api, "schalter-4")  # schalter-4 does not serve ausweis, but the ticket was sent there
    assert (taken["code"], taken["counter"]) == ("A001", "schalter-4")


@pytest.mark.parametrize("state", ["waiting", "serving"])
def test_transfer_works_from_waiting_and_serving(api, state):
    t = issue(api)
    if state == "serving":
        call_next(api)
        act(api, t["id"], "start")
    moved = act(api, t["id"], "transfer", service="beglaubigung")
    assert (moved["state"], moved["service"]) == ("waiting", "beglaubigung")
    assert call_next(api, "schalter-4")["code"] == "A001"


def test_transfer_front_to_a_counter_goes_ahead_of_others_sent_there(api, clock):
    a1, a2 = issue(api), issue(api)
    call_next(api, "schalter-1")
    call_next(api, "schalter-2")
    act(api, a1["id"], "transfer", counter="schalter-4")
    clock.advance(minutes=1)
    act(api, a2["id"], "transfer", counter="schalter-4", position="front")
    assert [call_next(api, "schalter-4")["code"] for _ in range(2)] == ["A002", "A001"]


def test_the_event_sequence_moves_on_every_action(api):
    seqs = []
    t = issue(api)
    for step in (lambda: call_next(api), lambda: act(api, t["id"], "recall"), lambda: act(api, t["id"], "start"),
                 lambda: act(api, t["id"], "finish")):
        step()
        seqs.append(next(o["seq"] for o in api.get("/offices", "admin").get_json() if o["slug"] == "mitte"))
    assert seqs == sorted(set(seqs)) and len(seqs) == 4


@pytest.mark.parametrize("later", [0, 31], ids=["in-time", "all-overdue"])
def test_the_positions_shown_are_the_order_in_which_tickets_are_called(api, clock, later):
    issue(api, "meldewesen")  # B001, 09:00: will be transferred into ausweis at the front
    clock.advance(minutes=1)
    a1 = issue(api)  # A001 09:01
    clock.advance(minutes=1)
    issue(api)  # A002 09:02
    clock.advance(minutes=1)
    issue(api, priority="priority_need")  # A003 09:03
    clock.advance(minutes=1)
    issue(api)  # A004 09:04
    call_next(api, "schalter-1")  # A003 (priority)
    call_next(api, "schalter-1")  # A001
    act(api, a1["id"], "requeue")  # A001 to the back
    b1 = call_next(api, "schalter-3")
    act(api, b1["id"], "transfer", service="ausweis", position="front")
    clock.advance(minutes=later)
    waiting = queue(api)["waiting"]
    shown = sorted(waiting, key=lambda t: t["position"])
    assert [t["position"] for t in shown] == list(range(1, len(waiting) + 1))
    by_status = {t["code"]: api.get(f"/status/{public_token(t)}").get_json()["position"] for t in waiting}
    assert by_status == {t["code"]: t["position"] for t in waiting}
    called = [call_next(api, "schalter-2")["code"] for _ in waiting]
    assert called == [t["code"] for t in shown]

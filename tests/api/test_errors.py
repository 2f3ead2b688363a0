"""Bad requests get a clear 4xx with {"error": {"code", "message"}}, change nothing, and never cause a 500."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from server.auth import tokens as token_auth
from server.db.models import ApiToken

from .helpers import act, assert_error, call_next, find_ticket, issue, public_token, snapshot

JSON = {"Content-Type": "application/json"}
MIB = 1024 * 1024


# --- 400: the body is not a JSON object ----------------------------------------------------------------------
@pytest.mark.parametrize("raw", [b"{bad json", b'{"service": "ausweis"', b"\xff\xfe not utf-8", b"[" * 50_000],
                         ids=["broken", "truncated", "not-utf8", "nested-too-deep"])
def test_malformed_json_is_400_malformed_json_and_issues_nothing(api, raw):
    before = snapshot(api)
    assert_error(api.post("/offices/mitte/tickets", "kiosk", data=raw, headers=JSON), 400, "malformed_json")
    assert snapshot(api) == before


@pytest.mark.parametrize("raw", [b'["ausweis"]', b'"ausweis"', b"42", b"null", b"true"])
def test_a_json_body_that_is_not_an_object_is_400(api, raw):
    before = snapshot(api)
    assert_error(api.post("/offices/mitte/tickets", "kiosk", data=raw, headers=JSON), 400, "malformed_json")
    assert snapshot(api) == before


def test_an_empty_body_where_one_is_needed_is_400(api):
    assert_error(api.post("/offices/mitte/tickets", "kiosk", data=b"", headers=JSON), 400, "malformed_json")
    assert_error(api.post("/offices/mitte/tickets", "kiosk"), 400, "malformed_json")


def test_json_sent_without_a_json_content_type_is_400(api):
    resp = api.post("/offices/mitte/tickets", "kiosk", data=b'{"service": "ausweis"}',
                    headers={"Content-Type": "text/plain"})
    assert_error(resp, 400, "malformed_json")


def test_a_malformed_transfer_body_leaves_the_ticket_called(api):
    t = issue(api)
    call_next(api)
    assert_error(api.post(f"/tickets/{t['id']}/transfer", "clerk", data=b"{", headers=JSON), 400, "malformed_json")
    assert find_ticket(api, t["id"])["state"] == "called"


# --- 422: a field is missing or has a bad value -------------------------------------------------------------
@pytest.mark.parametrize(("path", "body", "field"), [
    ("/offices/mitte/tickets", {}, "service"),
    ("/offices/mitte/tickets", {"service": 5}, "service"),
    ("/offices/mitte/tickets", {"service": None}, "service"),
    ("/offices/mitte/tickets", {"service": ""}, "service"),
    ("/offices/mitte/tickets", {"service": "ausweis", "colour": "red"}, "colour"),
    ("/offices/mitte/tickets", {"service": "ausweis", "priority": "vip"}, "priority"),
    ("/offices/mitte/tickets", {"service": "ausweis", "request_id": ""}, "request_id"),
    ("/offices/mitte/tickets", {"service": "ausweis", "request_id": "r" * 101}, "request_id"),
    ("/offices/mitte/tickets", {"service": "ausweis", "lang": 7}, "lang"),
    ("/offices/mitte/counters/schalter-1/call", {}, "ticket"),
    ("/offices/mitte/counters/schalter-1/call", {"ticket": "one"}, "ticket"),
    ("/offices/mitte/counters/schalter-1/call", {"ticket": 0}, "ticket"),
    ("/offices/mitte/counters/schalter-1/call", {"ticket": -3}, "ticket"),
    ("/offices/mitte/services", {"prefix": "X"}, "name"),
    ("/offices/mitte/services", {"name": "Kfz", "prefix": "x1"}, "prefix"),
    ("/offices/mitte/services", {"name": "Kfz", "prefix": "X", "range": [5, 1]}, "range"),
    ("/offices/mitte/services", {"name": "Kfz", "prefix": "X", "daily_cap": 0}, "daily_cap"),
    ("/offices/mitte/services", {"name": "Kfz", "prefix": "X", "slug": "Not A Slug"}, "slug"),
    ("/offices/mitte/counters", {"name": "Schalter 9"}, "services"),
    ("/offices/mitte/counters", {"name": "Schalter 9", "services": []}, "services"),
    ("/offices/mitte/counters", {"name": "", "services": ["ausweis"]}, "name"),
])
def test_a_missing_or_invalid_field_is_422_naming_the_field(api, path, body, field):
    before = snapshot(api)
    error = assert_error(api.post(path, "admin", json=body), 422, "invalid_field")
    assert error["message"].startswith(field), error
    assert snapshot(api) == before


@pytest.mark.parametrize(("action", "body", "field"), [
    ("requeue", {"position": "middle"}, "position"),
    ("requeue", {"where": "front"}, "where"),
    ("transfer", {"service": "meldewesen", "position": "top"}, "position"),
    ("transfer", {"service": 3}, "service"),
])
def test_a_bad_action_body_is_422_and_leaves_the_ticket_alone(api, action, body, field):
    t = issue(api)
    called = call_next(api)
    error = assert_error(api.post(f"/tickets/{t['id']}/{action}", "clerk", json=body), 422, "invalid_field")
    assert error["message"].startswith(field)
    assert find_ticket(api, t["id"]) == called


@pytest.mark.parametrize("body", [{}, {"service": "meldewesen", "counter": "schalter-3"}],
                         ids=["neither", "both"])
def test_a_transfer_needs_exactly_one_target(api, body):
    t = issue(api)
    called = call_next(api)
    before = snapshot(api)
    assert_error(api.post(f"/tickets/{t['id']}/transfer", "clerk", json=body), 422, "transfer_target")
    assert snapshot(api) == before
    assert find_ticket(api, t["id"]) == called


@pytest.mark.parametrize("action", ["call", "delete", "START", "no_show", "finish-him", "x" * 300])
def test_an_unknown_action_is_422_unknown_action(api, action):
    t = issue(api)
    call_next(api)
    before = snapshot(api)
    assert_error(api.post(f"/tickets/{t['id']}/{action}", "clerk"), 422, "unknown_action")
    assert snapshot(api) == before


# --- 404: unknown things ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/offices/atlantis/services", None),
    ("POST", "/offices/atlantis/services", {"name": "Kfz", "prefix": "K"}),
    ("GET", "/offices/atlantis/counters", None),
    ("POST", "/offices/atlantis/counters", {"name": "Schalter 9", "services": ["ausweis"]}),
    ("POST", "/offices/atlantis/tickets", {"service": "ausweis"}),
    ("GET", "/offices/atlantis/queue", None),
    ("POST", "/offices/atlantis/counters/schalter-1/open", None),
    ("POST", "/offices/atlantis/counters/schalter-1/call-next", None),
    ("POST", "/offices/atlantis/counters/schalter-1/call", {"ticket": 1}),
    ("GET", "/offices/atlantis/stats", None),
])
def test_an_unknown_office_is_404_office_not_found(api, method, path, body):
    before = snapshot(api)
    assert_error(api.request(method, path, "admin", json=body), 404, "office_not_found")
    assert snapshot(api) == before


def test_an_unknown_service_is_404_service_not_found(api):
    before = snapshot(api)
    assert_error(api.post("/offices/mitte/tickets", "kiosk", json={"service": "kfz"}), 404, "service_not_found")
    # a service of another office is unknown here too
    resp = api.post("/offices/mitte/tickets", "admin", json={"service": "allgemein"})
    assert_error(resp, 404, "service_not_found")
    assert snapshot(api) == before


@pytest.mark.parametrize(("path", "body"), [
    ("/offices/mitte/counters/schalter-9/open", None),
    ("/offices/mitte/counters/schalter-9/close", None),
    ("/offices/mitte/counters/schalter-9/call-next", None),
    ("/offices/mitte/counters/platz-1/call-next", None),  # a counter of office nord
    ("/offices/mitte/counters/schalter-9/call", "ticket"),
])
def test_an_unknown_counter_is_404_counter_not_found(api, path, body):
    t = issue(api)
    before = snapshot(api)
    assert_error(api.post(path, "clerk", json={"ticket": t["id"]} if body else None), 404, "counter_not_found")
    assert snapshot(api) == before


@pytest.mark.parametrize("action", ["recall", "start", "finish", "no-show", "requeue", "park", "cancel"])
def test_an_unknown_ticket_is_404_ticket_not_found(api, action):
    issue(api)
    before = snapshot(api)
    assert_error(api.post(f"/tickets/4711/{action}", "clerk"), 404, "ticket_not_found")
    assert_error(api.post("/tickets/0/start", "clerk"), 404, "ticket_not_found")
    assert snapshot(api) == before


def test_calling_an_unknown_ticket_is_404_ticket_not_found(api):
    before = snapshot(api)
    resp = api.post("/offices/mitte/counters/schalter-1/call", "clerk", json={"ticket": 4711})
    assert_error(resp, 404, "ticket_not_found")
    assert snapshot(api) == before


@pytest.mark.parametrize(("body", "code"), [
    ({"service": "kfz"}, "service_not_found"),
    ({"counter": "schalter-9"}, "counter_not_found"),
    ({"counter": "platz-1"}, "counter_not_found"),  # a counter of office nord
    ({"service": "allgemein"}, "service_not_found"),  # a service of office nord
])
def test_a_transfer_to_an_unknown_target_is_404(api, body, code):
    t = issue(api)
    called = call_next(api)
    assert_error(api.post(f"/tickets/{t['id']}/transfer", "clerk", json=body), 404, code)
    assert find_ticket(api, t["id"]) == called


def test_an_unknown_route_under_the_api_is_404_json(api):
    assert_error(api.get("/no-such-thing", "admin"), 404, "not_found")
    assert_error(api.post("/offices/mitte/counters/schalter-1/explode", "admin"), 404, "not_found")
    assert_error(api.post("/tickets/-1/start", "admin"), 404, "not_found")
    assert_error(api.post("/tickets/abc/start", "admin"), 404, "not_found")


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/offices/mitte/tickets"),
    ("DELETE", "/offices/mitte/services"),
    ("PUT", "/offices/mitte/counters/schalter-1/call-next"),
    ("GET", "/tickets/1/start"),
    ("POST", "/wait-times"),
    ("DELETE", "/offices"),
    ("PUT", "/offices/mitte"),
])
def test_a_wrong_method_is_405_json(api, method, path):
    before = snapshot(api)
    assert_error(api.request(method, path, "admin"), 405, "method_not_allowed")
    assert snapshot(api) == before


# --- 409: transitions the ticket life does not allow ---------------------------------------------------------
# From DESIGN.md ("Ticket life"): the actions each state allows; every other one is a 409.
ALLOWED = {
    "waiting": {"transfer", "cancel"},
    "called": {"recall", "start", "no-show", "requeue", "transfer"},
    "serving": {"finish", "park", "transfer"},
    "parked": set(),  # only a call brings it back
    "done": set(),
    "no_show": set(),
    "cancelled": set(),
}
ACTIONS = ("recall", "start", "finish", "no-show", "requeue", "park", "cancel", "transfer")
# How to bring a fresh ticket into each state (after it has been called at schalter-1).
PATH_TO = {"waiting": [], "called": None, "serving": ["start"], "parked": ["start", "park"],
           "done": ["start", "finish"], "no_show": ["no-show"], "cancelled": ["cancel"]}


def ticket_in(api, state: str) -> dict:
    t = issue(api)
    if state in ("waiting", "cancelled"):
        for action in PATH_TO[state]:
            t = act(api, t["id"], action)
    else:
        t = call_next(api)
        for action in PATH_TO[state] or []:
            t = act(api, t["id"], action)
    assert t["state"] == state
    return t


@pytest.mark.parametrize("state", list(ALLOWED))
def test_a_forbidden_transition_is_409_invalid_transition_and_changes_nothing(api, state):
    t = ticket_in(api, state)
    forbidden = [a for a in ACTIONS if a not in ALLOWED[state]]
    before = snapshot(api)
    for action in forbidden:
        body = {"service": "meldewesen"} if action == "transfer" else None
        assert_error(api.post(f"/tickets/{t['id']}/{action}", "clerk", json=body), 409, "invalid_transition")
    assert snapshot(api) == before
    status = api.get(f"/status/{public_token(t)}").get_json()
    assert status["state"] == state


@pytest.mark.parametrize("state", ["called", "serving", "done", "no_show", "cancelled"])
def test_calling_a_ticket_that_is_not_waiting_or_parked_is_409(api, state):
    t = ticket_in(api, state)
    before = snapshot(api)
    resp = api.post("/offices/mitte/counters/schalter-2/call", "clerk", json={"ticket": t["id"]})
    assert_error(resp, 409, "invalid_transition")
    assert snapshot(api) == before


def test_calling_a_ticket_of_another_office_to_a_counter_is_refused(api):
    nord = issue(api, "allgemein", "kiosk_nord", "nord")
    before = snapshot(api)
    resp = api.post("/offices/mitte/counters/schalter-1/call", "admin", json={"ticket": nord["id"]})
    assert_error(resp, 409, "wrong_office")
    resp = api.post("/offices/mitte/counters/schalter-1/call", "clerk", json={"ticket": nord["id"]})
    assert_error(resp, 403, "wrong_office")
    assert snapshot(api) == before


def test_the_409_examples_of_the_brief(api):
    waiting = issue(api)
    assert_error(api.post(f"/tickets/{waiting['id']}/finish", "clerk"), 409, "invalid_transition")
    assert_error(api.post(f"/tickets/{waiting['id']}/recall", "clerk"), 409, "invalid_transition")
    done = ticket_in(api, "done")
    assert_error(api.post(f"/tickets/{done['id']}/start", "clerk"), 409, "invalid_transition")


# --- 413: too large -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "/offices/mitte/tickets",
    "/offices/mitte/services",
    "/offices/mitte/counters/schalter-1/call-next",  # a view that never reads its body
    "/offices/mitte/counters/schalter-1/open",
])
def test_a_body_over_1_mib_is_413_json_and_changes_nothing(api, path):
    issue(api)
    big = b'{"service": "ausweis", "request_id": "' + b"x" * MIB + b'"}'
    before = snapshot(api)
    error = assert_error(api.post(path, "admin", data=big, headers=JSON), 413, "payload_too_large")
    assert "1 MiB" in error["message"]
    assert snapshot(api) == before


def test_a_body_just_under_1_mib_is_not_refused_for_its_size(api):
    padding = "x" * (MIB - 100)
    resp = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis", "request_id": padding})
    assert_error(resp, 422, "invalid_field")  # refused for the long request_id, not for the size


# --- 401: no or bad credentials -----------------------------------------------------------------------------
@pytest.mark.parametrize(("header", "code"), [
    (None, "unauthorized"),
    ("", "unauthorized"),
    ("Bearer", "unauthorized"),
    ("Bearer    ", "unauthorized"),
    ("Basic YWRtaW46YWRtaW4=", "unauthorized"),
    ("Token cq_abc", "unauthorized"),
    ("Bearer cq_not-a-real-token", "invalid_token"),
    ("Bearer " + "x" * 5000, "invalid_token"),
])
def test_a_missing_or_bad_bearer_token_is_401(api, header, code):
    headers = {} if header is None else {"Authorization": header}
    before = snapshot(api)
    assert_error(api.post("/offices/mitte/tickets", json={"service": "ausweis"}, headers=headers), 401, code)
    assert_error(api.get("/offices", headers=headers), 401, code)
    assert snapshot(api) == before


def test_the_bearer_scheme_is_case_insensitive(api, tokens):
    resp = api.get("/offices", headers={"Authorization": f"bearer {tokens['clerk']}"})
    assert resp.status_code == 200


def test_a_revoked_token_is_401_invalid_token(api, tokens, sqlite_ctx, monkeypatch):
    """Revoked outside this process (the CLI, another worker): refused once its cached actor is CACHE_SECONDS old."""
    assert api.get("/offices", "clerk").status_code == 200
    with sqlite_ctx.db.write_session() as session:
        session.execute(update(ApiToken).where(ApiToken.name == "t-clerk").values(revoked_at=datetime.now(UTC)))
        session.commit()
    assert api.get("/offices", "clerk").status_code == 200  # still remembered as live, for at most CACHE_SECONDS
    later = time.monotonic() + token_auth.CACHE_SECONDS + 0.1
    monkeypatch.setattr(token_auth, "_clock", lambda: later)
    assert_error(api.get("/offices", "clerk"), 401, "invalid_token")
    assert_error(api.post("/offices/mitte/counters/schalter-1/call-next", "clerk"), 401, "invalid_token")


# --- never a 500 --------------------------------------------------------------------------------------------
HUGE = 10**40
ODD_REQUESTS = [
    ("POST", "/offices/mitte/tickets", {"service": "ausweis", "priority": HUGE}),
    ("POST", "/offices/mitte/tickets", {"service": "ä" * 64}),
    ("POST", "/offices/mitte/tickets", {"service": "ausweis", "lang": "😀😀"}),
    ("POST", "/offices/mitte/tickets", {"service": "ausweis", "request_id": "\u0000\ud7ff\U0010ffff"}),
    ("POST", "/offices/mitte/tickets", {"service": ["ausweis"]}),
    ("POST", "/offices/mitte/tickets", {"service": {"slug": "ausweis"}}),
    ("POST", "/offices/mitte/tickets", {"service": "ausweis", "lang": None, "request_id": None}),
    ("POST", "/offices/m%C3%BCnster/tickets", {"service": "ausweis"}),
    ("POST", "/offices/mitte/counters/schalter-1/call", {"ticket": HUGE}),
    ("POST", "/offices/mitte/counters/schalter-1/call", {"ticket": 2**63}),
    ("POST", "/offices/mitte/counters/schalter-1/call", {"ticket": 2**31}),
    ("POST", "/offices/mitte/counters/schalter-1/call", {"ticket": 1.5}),
    ("POST", "/offices/mitte/counters/schalter-1/call", {"ticket": True}),
    ("POST", "/offices/mitte/counters/schalter-1/call", {"ticket": None}),
    ("POST", "/offices/mitte/counters/%00/call-next", None),
    ("POST", "/offices/mitte/counters/" + "s" * 2000 + "/open", None),
    ("POST", f"/tickets/{HUGE}/start", None),
    ("POST", f"/tickets/{2**63}/finish", None),
    ("POST", f"/tickets/{2**31}/recall", None),
    ("POST", "/tickets/-5/start", None),
    ("POST", "/tickets/1/transfer", {"service": None, "counter": None}),
    ("POST", "/tickets/1/transfer", {"service": "", "position": "front"}),
    ("POST", "/tickets/1/requeue", {"position": None}),
    ("POST", "/offices/mitte/services", {"name": {}}),
    ("POST", "/offices/mitte/services", {"name": {"de": ""}}),
    ("POST", "/offices/mitte/services", {"name": {"de": "x" * 1000}, "slug": "x"}),
    ("POST", "/offices/mitte/services", {"name": "ٱلْعَرَبِيَّة"}),
    ("POST", "/offices/mitte/services", {"name": "Kfz", "prefix": "K", "daily_cap": HUGE}),
    ("POST", "/offices/mitte/services", {"name": "Kfz", "prefix": "K", "target_wait": HUGE}),
    ("POST", "/offices/mitte/services", {"name": "Kfz", "prefix": "K", "service_minutes": HUGE}),
    ("POST", "/offices/mitte/services", {"name": "Kfz", "prefix": "K", "range": [-1, HUGE]}),
    ("POST", "/offices/mitte/services", {"name": "Kfz", "prefix": "K", "range": [1, 2, 3]}),
    ("POST", "/offices/mitte/services", {"name": "Kfz", "prefix": "K", "service_minutes": "NaN"}),
    ("POST", "/offices/mitte/services", {"name": None, "prefix": None}),
    ("POST", "/offices/mitte/counters", {"name": "🙂", "services": ["ausweis"]}),
    ("POST", "/offices/mitte/counters", {"name": "x" * 5000, "services": ["ausweis"]}),
    ("POST", "/offices/mitte/counters", {"name": "Schalter 9", "services": "ausweis"}),
    ("POST", "/offices/mitte/counters", {"name": "Schalter 9", "services": [None]}),
    ("POST", "/offices/mitte/counters", {"name": "Schalter 9", "services": ["ausweis", "ausweis"]}),
    ("GET", "/offices/mitte/services?lang=%00", None),
    ("GET", "/offices/mitte/stats?from=9999-12-31&to=9999-12-31", None),
    ("GET", "/offices/mitte/stats?from=0001-01-01&to=0001-01-01", None),
    ("GET", "/offices/mitte/stats?from=2026-02-30", None),
    ("GET", "/offices/mitte/stats?from=" + "9" * 500, None),
    ("GET", "/offices/mitte/stats?from=2020-01-01&to=2026-01-01", None),
    ("GET", "/status/" + "x" * 5000, None),
    ("GET", "/status/%F0%9F%98%80", None),
]


def test_odd_inputs_never_cause_a_500(api):
    issue(api)
    call_next(api)
    failures = []
    for method, path, body in ODD_REQUESTS:
        resp = api.request(method, path, "admin", json=body)
        if resp.status_code >= 500 or not resp.is_json:
            failures.append((method, path[:80], body if body is None else str(body)[:80], resp.status_code))
    assert not failures, failures


def test_odd_raw_bodies_never_cause_a_500(api):
    issue(api)
    bodies = [b"", b"   ", b"\x00" * 100, b'{"service": "ausweis"}' * 3, b'{"service": "\\ud800"}',
              b'{"a": ' * 10_000, b"1e999999", b'{"service": NaN}', b"{'service': 'ausweis'}"]
    paths = ["/offices/mitte/tickets", "/tickets/1/requeue", "/tickets/1/transfer", "/offices/mitte/services",
             "/offices/mitte/counters", "/offices/mitte/counters/schalter-1/call"]
    failures = [(path, body[:30], resp.status_code) for path in paths for body in bodies
                if (resp := api.post(path, "admin", data=body, headers=JSON)).status_code >= 500]
    assert not failures, failures


def test_nul_characters_are_refused_not_crashing(api):
    body = api.post("/offices/mitte/tickets", "kiosk", json={"service": "aus\x00weis"})
    assert body.status_code == 422 and body.get_json()["error"]["code"] == "invalid_characters"
    path = api.get("/offices/mit%00te/services", "kiosk")
    assert path.status_code == 422 and path.get_json()["error"]["code"] == "invalid_characters"

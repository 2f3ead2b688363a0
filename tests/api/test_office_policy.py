"""The office's calling policy through PATCH /offices/{office}: each switch changes how the office calls and
issues, only the switches sent change, and a bad or forbidden request changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.config import load_settings
from server.db.models import Event
from server.realtime import socketio
from server.services.layout import import_layout

from .helpers import assert_error, call_next, issue, snapshot

DEFAULTS = {"overdue_first": True, "service_levels": True, "stop_at_cutoff": False}
# The fake clock stands at Thursday 2026-11-26 10:00 in Berlin; this office closed five minutes later.
CLOSES_SOON = {"thu": [["08:00", "10:05"]]}


def patch(api, role="admin", office="mitte", **body):
    return api.request("PATCH", f"/offices/{office}", role, json=body)


def policy(api, office="mitte") -> dict:
    resp = api.get(f"/offices/{office}", "admin")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["policy"]


def ausweis(api) -> dict:
    return next(s for s in api.get("/offices/mitte/services", "kiosk").get_json() if s["slug"] == "ausweis")


def test_an_office_shows_every_switch_of_its_policy(api):
    assert policy(api) == DEFAULTS


def test_a_new_office_without_a_policy_shows_the_defaults(api):
    resp = api.post("/offices", "admin", json={"name": "Bürgeramt Süd"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["policy"] == DEFAULTS
    assert policy(api, "buergeramt-sued") == DEFAULTS


@pytest.mark.parametrize("switch", sorted(DEFAULTS))
def test_each_switch_is_changed_alone(api, switch):
    resp = patch(api, policy={switch: not DEFAULTS[switch]})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["policy"] == DEFAULTS | {switch: not DEFAULTS[switch]}
    assert policy(api) == DEFAULTS | {switch: not DEFAULTS[switch]}


def test_switches_not_sent_keep_their_value(api):
    assert patch(api, policy={"stop_at_cutoff": True}).status_code == 200
    assert patch(api, policy={"overdue_first": False}).status_code == 200
    assert patch(api, name="Bürgerbüro Mitte (Rathaus)").status_code == 200
    assert policy(api) == {"overdue_first": False, "service_levels": True, "stop_at_cutoff": True}
    assert patch(api, policy={}).status_code == 200
    assert policy(api) == {"overdue_first": False, "service_levels": True, "stop_at_cutoff": True}


def test_a_policy_change_is_an_event_and_an_open_kiosk_greys_the_service_out_at_once(app, api, tokens, sqlite_ctx):
    assert patch(api, opening_hours=CLOSES_SOON).status_code == 200
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    publisher = app.extensions["civicqueue_publisher"]
    publisher.flush()
    kiosk = socketio.test_client(app, namespace="/kiosk", auth={"token": tokens["kiosk"]})
    kiosk.get_received("/kiosk")  # the snapshot

    assert patch(api, policy={"stop_at_cutoff": True}).status_code == 200
    publisher.flush()
    states = [m["args"][0] for m in kiosk.get_received("/kiosk") if m["name"] == "state"]
    listed = {s["slug"]: s for s in states[-1]["services"]}["ausweis"]
    assert (listed["issuing"], listed["closed_reason"]) == (False, "cutoff")
    with sqlite_ctx.db.read_session() as session:
        last = session.scalars(select(Event).order_by(Event.id.desc())).first()
        assert (last.kind, last.details) == ("office_updated", {"changed": ["policy"], "policy": DEFAULTS | {
            "stop_at_cutoff": True}})
    entry = api.get("/audit", "admin", query_string={"action": "office.update"}).get_json()["entries"][0]
    assert entry["details"]["policy"] == {"stop_at_cutoff": True}


def test_sending_the_current_switches_again_records_no_event(api):
    before = snapshot(api)
    assert patch(api, policy=DEFAULTS).status_code == 200
    assert snapshot(api) == before


# --- what the switches do ----------------------------------------------------------------------------------------
def test_stop_at_cutoff_refuses_tickets_that_would_not_be_served_before_closing(api):
    assert patch(api, opening_hours=CLOSES_SOON).status_code == 200
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    assert ausweis(api)["issuing"] is True  # the forecast alone refuses nothing
    issue(api)

    assert patch(api, policy={"stop_at_cutoff": True}).status_code == 200
    assert (ausweis(api)["issuing"], ausweis(api)["closed_reason"]) == (False, "cutoff")
    assert_error(api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"}), 409, "cutoff")

    assert patch(api, policy={"stop_at_cutoff": False}).status_code == 200
    assert ausweis(api)["issuing"] is True
    issue(api)


def test_without_overdue_first_the_counter_keeps_its_own_service_order(api, clock):
    # schalter-1 serves ausweis first, then abholung (target wait 10 minutes)
    overdue = issue(api, "abholung")
    clock.advance(minutes=11)
    fresh = issue(api, "ausweis")
    assert patch(api, policy={"overdue_first": False}).status_code == 200
    assert call_next(api)["id"] == fresh["id"]
    issue(api, "ausweis")
    assert patch(api, policy={"overdue_first": True}).status_code == 200
    assert call_next(api)["id"] == overdue["id"]


def test_without_service_levels_the_counter_calls_the_oldest_ticket(api, clock):
    # abholung is schalter-1's second service
    older = issue(api, "abholung")
    clock.advance(minutes=1)
    newer = issue(api, "ausweis")
    assert patch(api, policy={"service_levels": False}).status_code == 200
    assert call_next(api)["id"] == older["id"]
    issue(api, "abholung")
    assert patch(api, policy={"service_levels": True}).status_code == 200
    assert call_next(api)["id"] == newer["id"]


# --- refused requests ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "field"), [
    ({"policy": {"overdue_first": "no"}}, "policy.overdue_first"),
    ({"policy": {"service_levels": 1}}, "policy.service_levels"),
    ({"policy": {"stop_at_cutoff": "true"}}, "policy.stop_at_cutoff"),
    ({"policy": {"stop_at_cutoff": None}}, "policy.stop_at_cutoff"),
    ({"policy": {"stop_at_cutoff": True, "call_randomly": True}}, "policy.call_randomly"),
    ({"policy": True}, "policy"),
    ({"policy": None}, "policy"),
    ({"name": "Bürgerbüro Nord", "policy": {"overdue_first": []}}, "policy.overdue_first"),
])
def test_a_bad_policy_names_the_field_and_changes_nothing(api, body, field):
    before = (snapshot(api), api.get("/offices/mitte", "admin").get_json())
    error = assert_error(patch(api, **body), 422, "invalid_field")
    assert error["message"].startswith(f"{field}:"), error
    assert (snapshot(api), api.get("/offices/mitte", "admin").get_json()) == before


@pytest.mark.parametrize(("role", "status", "code"), [
    ("clerk", 403, "wrong_role"), ("supervisor", 403, "wrong_role"), ("supervisor_nord", 403, "wrong_role"),
    ("kiosk", 403, "wrong_role"), ("anon", 401, "unauthorized"),
])
def test_only_admins_change_the_policy(api, role, status, code):
    before = (snapshot(api), policy(api))
    assert_error(patch(api, None if role == "anon" else role, policy={"stop_at_cutoff": True}), status, code)
    assert (snapshot(api), policy(api)) == before


def test_an_admin_of_another_office_may_not_change_it(api):
    before = (snapshot(api), policy(api, "nord"))
    assert_error(patch(api, "admin_mitte", office="nord", policy={"overdue_first": False}), 403, "wrong_office")
    assert (snapshot(api), policy(api, "nord")) == before
    assert patch(api, "admin_mitte", policy={"overdue_first": False}).status_code == 200


# --- the layout --------------------------------------------------------------------------------------------------
def test_the_layout_may_switch_the_stop_at_cutoff_on(api, sqlite_ctx, tmp_path):
    layout = tmp_path / "city.toml"
    layout.write_text('[[offices]]\nslug = "sued"\nname = "Bürgeramt Süd"\n\n[offices.policy]\n'
                      "stop_at_cutoff = true\n", encoding="utf-8")
    import_layout(sqlite_ctx, load_settings(layout, env={}))
    assert policy(api, "sued") == DEFAULTS | {"stop_at_cutoff": True}

"""The supervisor's switch: "no more tickets" for a service or the whole office, at once on every kiosk."""

from __future__ import annotations

import pytest

from .helpers import assert_error, body_text


def switch(api, path: str, open_: bool, role: str = "supervisor"):
    return api.post(f"/offices/mitte{path}/issuing", role, json={"open": open_})


def kiosk_services(api) -> dict[str, dict]:
    return {s["slug"]: s for s in api.get("/offices/mitte/services", "kiosk").get_json()}


def test_a_closed_service_takes_no_tickets_and_says_why_until_reopened(api):
    resp = switch(api, "/services/ausweis", False)
    assert resp.status_code == 200 and resp.get_json()["issuing"] is False, body_text(resp)
    assert kiosk_services(api)["ausweis"]["closed_reason"] == "service_closed"
    assert kiosk_services(api)["meldewesen"]["closed_reason"] is None
    assert_error(api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"}), 409, "service_closed")

    assert switch(api, "/services/ausweis", True).get_json()["issuing"] is True
    assert api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"}).status_code == 201


def test_closing_the_office_closes_every_service_and_keeps_the_queue(api):
    waiting = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"}).get_json()
    assert switch(api, "", False).get_json()["issuing"] is False
    assert {s["closed_reason"] for s in kiosk_services(api).values()} == {"office_closed"}
    assert_error(api.post("/offices/mitte/tickets", "kiosk", json={"service": "abholung"}), 409, "office_closed")
    called = api.post("/offices/mitte/counters/schalter-1/call-next", "clerk")
    assert called.status_code == 200 and called.get_json()["id"] == waiting["id"]  # those waiting are still served
    switch(api, "", True)
    assert {s["closed_reason"] for s in kiosk_services(api).values()} == {None}


def test_each_switch_is_an_event_once(api, sqlite_ctx):
    from sqlalchemy import select

    from server.db.models import Event

    switch(api, "/services/ausweis", False)
    switch(api, "/services/ausweis", False)  # already closed: nothing happens
    switch(api, "/services/ausweis", True)
    with sqlite_ctx.db.read_session() as session:
        kinds = session.scalars(select(Event.kind).where(Event.kind.like("issuing_%")).order_by(Event.seq)).all()
    assert kinds == ["issuing_closed", "issuing_opened"]


@pytest.mark.parametrize("body", [{}, {"open": "no"}, {"open": None}, {"open": False, "extra": 1}])
def test_a_bad_switch_request_changes_nothing(api, body):
    resp = api.post("/offices/mitte/services/ausweis/issuing", "supervisor", json=body)
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid_field"
    assert kiosk_services(api)["ausweis"]["closed_reason"] is None


def test_only_supervisors_and_admins_of_the_office_switch(api):
    assert_error(switch(api, "/services/ausweis", False, role="clerk"), 403, "wrong_role")
    assert_error(switch(api, "/services/ausweis", False, role="supervisor_nord"), 403, "wrong_office")
    assert_error(switch(api, "/services/nope", False), 404, "service_not_found")
    assert kiosk_services(api)["ausweis"]["closed_reason"] is None

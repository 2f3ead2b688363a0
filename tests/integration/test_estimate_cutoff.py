"""The cut-off forecast in the services list, and the office switch that stops issuing after it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from server.db.models import Event, Office
from server.queue.estimate import PICKUP_MINUTES
from server.services import estimates

# The fake clock starts on Thursday 2026-11-26 09:00 UTC, 10:00 in Berlin.
HOURS = {"thu": [["08:00", "10:00"], ["10:30", "11:00"]]}  # closes 11:00 Berlin = 10:00 UTC


def set_office(ctx, **values) -> None:
    with ctx.db.write_session() as s:
        s.execute(update(Office).where(Office.slug == "mitte").values(**values))
        s.commit()
    estimates.clear_cache()


def services(api) -> dict:
    return {s["slug"]: s for s in api.get("/offices/mitte/services", "kiosk").get_json()}


def issue(api, service="ausweis"):
    return api.post("/offices/mitte/tickets", "kiosk", json={"service": service})


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def test_no_opening_hours_means_no_cutoff(api):
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    assert all(s["cutoff"] is None for s in services(api).values())


def test_the_cutoff_is_closing_time_minus_the_wait_and_the_service(api, sqlite_ctx, clock):
    set_office(sqlite_ctx, opening_hours=HOURS)
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    empty = parse(services(api)["ausweis"]["cutoff"])
    # Nobody ahead: the free counter's pickup (the default half minute, nothing measured yet), 8 minutes of service.
    assert empty == parse("2026-11-26T10:00:00Z") - timedelta(minutes=8 + PICKUP_MINUTES)
    for _ in range(3):
        issue(api)
    later = parse(services(api)["ausweis"]["cutoff"])
    assert later < empty  # three people ahead: a new ticket must be drawn earlier to be served
    assert services(api)["beglaubigung"]["cutoff"] is None  # no counter open: no forecast


def test_the_office_may_stop_issuing_after_the_cutoff(api, sqlite_ctx, clock):
    set_office(sqlite_ctx, opening_hours=HOURS, policy={"overdue_first": True, "stop_at_cutoff": True})
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    assert issue(api).status_code == 201  # 10:00 Berlin: plenty of time
    clock.advance(minutes=50)  # 10:50 Berlin, closing at 11:00, one ticket ahead: 8 + 8 minutes from 10:50 is too late
    listed = services(api)["ausweis"]
    assert (listed["issuing"], listed["closed_reason"]) == (False, "cutoff")
    refused = issue(api)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "cutoff"
    with sqlite_ctx.db.read_session() as s:
        last = s.scalars(select(Event).order_by(Event.id.desc())).first()
        assert (last.kind, last.details) == ("refused", {"reason": "cutoff"})


def test_without_the_switch_tickets_are_issued_after_the_cutoff(api, sqlite_ctx, clock):
    set_office(sqlite_ctx, opening_hours=HOURS)
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    clock.advance(minutes=58)
    listed = services(api)["ausweis"]
    assert parse(listed["cutoff"]) < clock() and listed["issuing"] is True
    assert issue(api).status_code == 201

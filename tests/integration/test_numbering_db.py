"""Rule 2 in the database: unique codes per office and service day, restart at local midnight, history kept."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.config import ServiceConfig
from server.db.models import Event, Ticket
from server.queue import Action, DailyCapReached, NumberRangeExhausted
from server.services.actions import act
from server.services.issuing import issue_ticket
from server.services.layout import create_service
from server.services.uow import SYSTEM


def issue(ctx, service="ausweis", office="mitte"):
    return issue_ticket(ctx, SYSTEM, office, service)[0]


def test_numbering_restarts_at_berlin_midnight_and_keeps_history(ctx, clock):
    clock.set(datetime(2026, 11, 26, 22, 58, tzinfo=timezone.utc))  # 23:58 in Berlin
    assert [issue(ctx)["code"] for _ in range(3)] == ["A001", "A002", "A003"]
    clock.set(datetime(2026, 11, 26, 23, 0, 1, tzinfo=timezone.utc))  # 00:00:01 on the 27th in Berlin
    assert issue(ctx)["code"] == "A001"
    with ctx.db.read_session() as s:
        days = s.execute(select(Ticket.service_day, func.count()).group_by(Ticket.service_day)
                         .order_by(Ticket.service_day)).all()
    assert [(d.isoformat(), n) for d, n in days] == [("2026-11-26", 3), ("2026-11-27", 1)]


@pytest.mark.parametrize(("before", "after"), [
    # spring forward: 2026-03-29, 23 hours long
    (datetime(2026, 3, 28, 22, 59, tzinfo=timezone.utc), datetime(2026, 3, 28, 23, 0, tzinfo=timezone.utc)),
    # fall back: 2026-10-25, 25 hours long; the repeated hour must not restart the count
    (datetime(2026, 10, 24, 21, 59, tzinfo=timezone.utc), datetime(2026, 10, 24, 22, 0, tzinfo=timezone.utc)),
])
def test_numbering_restarts_once_on_dst_days(ctx, clock, before, after):
    clock.set(before)
    assert issue(ctx)["code"] == "A001"
    clock.set(after)
    assert issue(ctx)["code"] == "A001"
    for hours in (1, 2, 3, 20):  # through the switch and on to the end of the long or short day
        clock.set(after + timedelta(hours=hours))
        issue(ctx)
    with ctx.db.read_session() as s:
        per_day = dict(s.execute(select(Ticket.service_day, func.max(Ticket.number))
                                 .group_by(Ticket.service_day)).all())
    assert sorted(per_day.values()) == [1, 5]


def test_database_refuses_a_duplicate_code_on_the_same_day(ctx):
    first = issue(ctx)
    with ctx.db.write_session() as s, pytest.raises(IntegrityError) as info:
        t = s.get(Ticket, first["id"])
        s.add(Ticket(public_token="x" * 22, office_id=t.office_id, service_id=t.service_id,
                     issued_service_id=t.issued_service_id, service_day=t.service_day, seq=99, number=1, cycle=0,
                     code=t.code, state="waiting", created_at=t.created_at, enqueued_at=t.created_at))
        s.commit()
    assert "uq_tickets_code_per_day" in str(info.value) or "tickets.code" in str(info.value)


def test_daily_cap_refuses_and_logs_the_refusal(ctx):
    codes = [issue(ctx, "allgemein", "nord")["code"] for _ in range(5)]
    assert codes == ["N01", "N02", "N03", "N04", "N05"]
    with pytest.raises(DailyCapReached):
        issue(ctx, "allgemein", "nord")
    with ctx.db.read_session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket).where(Ticket.code.like("N%"))) == 5
        refused = s.scalars(select(Event).where(Event.kind == "refused")).all()
    assert [e.details["reason"] for e in refused] == ["daily_cap_reached"]


def test_range_wraps_when_the_old_holder_is_done(ctx):
    create_service(ctx, SYSTEM, "mitte", ServiceConfig(slug="mini", prefix="M", range=(1, 2), name={"de": "Mini"}))
    first = issue(ctx, "mini")
    issue(ctx, "mini")
    act(ctx, SYSTEM, first["id"], Action.CANCEL)
    third = issue(ctx, "mini")
    assert third["code"] == first["code"] == "M1"


def test_range_wrap_refuses_while_the_old_holder_still_waits(ctx):
    create_service(ctx, SYSTEM, "mitte", ServiceConfig(slug="mini", prefix="M", range=(1, 2), name={"de": "Mini"}))
    issue(ctx, "mini")
    issue(ctx, "mini")
    with pytest.raises(NumberRangeExhausted):
        issue(ctx, "mini")


def test_refused_ticket_gives_its_number_back(ctx):
    create_service(ctx, SYSTEM, "mitte", ServiceConfig(slug="mini", prefix="M", range=(1, 2), name={"de": "Mini"}))
    first = issue(ctx, "mini")
    issue(ctx, "mini")
    with pytest.raises(NumberRangeExhausted):
        issue(ctx, "mini")
    act(ctx, SYSTEM, first["id"], Action.CANCEL)
    # Had the refused attempt used up the day's 3rd number, this would be the 4th: M2, still held.
    assert issue(ctx, "mini")["code"] == "M1"

"""KPIs against a hand-computed day on the autumn DST day (Europe/Berlin, 2026-10-25: 02:00-03:00 happens twice),
driven through the real use cases with the fake clock; every breakdown, the rollup cache, rebuild and retention."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from server.auth.users import add_user
from server.db.models import DailyStats, Office
from server.queue import Action
from server.services import actions, calling, issuing, issuing_control
from server.services.errors import Conflict
from server.services.retention import purge
from server.services.uow import Actor
from server.stats import rollup
from server.stats.kpis import DIMENSIONS, office_kpis
from server.stats.report import office_stats

DAY = date(2026, 10, 25)
KIOSK = Actor(role="admin", name="kiosk")


def at(clock, hour: int, minute: int, day: int = 25) -> None:
    clock.set(datetime(2026, 10, day, hour, minute, tzinfo=UTC))


@pytest.fixture
def clerks(ctx):
    anna = add_user(ctx, "anna", "clerk", "pw-anna-123456", ["mitte"])
    ben = add_user(ctx, "ben", "clerk", "pw-ben-1234567", ["mitte"])
    return Actor(role="clerk", name="anna", user_id=anna), Actor(role="clerk", name="ben", user_id=ben)


@pytest.fixture
def dst_day(ctx, clock, clerks):
    """UTC times; local = UTC+2 before 01:00, UTC+1 after (so 00:50Z and 01:05Z are both 02:xx local).
    00:50 A1, 00:55 A2, 01:05 B1 (meldewesen), 01:10 A3; 01:12 abholung refused (service closed).
    anna at schalter-1: calls A1 01:20 (wait 30), starts 01:21 (walk 1), finishes 01:29 (service 8);
    calls A2 01:30 (wait 35), no-show 01:33.
    ben at schalter-2: calls B1 01:34 (wait 29), recalls 01:35, starts 01:37 (walk 2 from the recall), transfers
    it to ausweis 01:40; anna cancels A3 01:45; anna calls B1 01:50, starts 01:51, finishes 02:00Z (= 03:00 local).
    22:30Z (23:30 local, still the 25th) G1 (beglaubigung), cancelled by anna 22:40.
    23:10Z (00:10 on the 26th) G2, cancelled 23:20: the next day."""
    anna, ben = clerks

    def issue(service):
        return issuing.issue_ticket(ctx, KIOSK, "mitte", service)[0]["id"]

    at(clock, 0, 50)
    a1 = issue("ausweis")
    at(clock, 0, 55)
    a2 = issue("ausweis")
    at(clock, 1, 5)
    b1 = issue("meldewesen")
    at(clock, 1, 10)
    a3 = issue("ausweis")
    at(clock, 1, 12)
    issuing_control.set_service_issuing(ctx, KIOSK, "mitte", "abholung", False)
    with pytest.raises(Conflict):
        issue("abholung")
    issuing_control.set_service_issuing(ctx, KIOSK, "mitte", "abholung", True)
    steps = [
        ((1, 20), lambda: calling.call_ticket(ctx, anna, "mitte", "schalter-1", a1)),
        ((1, 21), lambda: actions.act(ctx, anna, a1, Action.START)),
        ((1, 29), lambda: actions.act(ctx, anna, a1, Action.FINISH)),
        ((1, 30), lambda: calling.call_ticket(ctx, anna, "mitte", "schalter-1", a2)),
        ((1, 33), lambda: actions.act(ctx, anna, a2, Action.NO_SHOW)),
        ((1, 34), lambda: calling.call_ticket(ctx, ben, "mitte", "schalter-2", b1)),
        ((1, 35), lambda: actions.act(ctx, ben, b1, Action.RECALL)),
        ((1, 37), lambda: actions.act(ctx, ben, b1, Action.START)),
        ((1, 40), lambda: actions.act(ctx, ben, b1, Action.TRANSFER, service="ausweis")),
        ((1, 45), lambda: actions.act(ctx, anna, a3, Action.CANCEL)),
        ((1, 50), lambda: calling.call_ticket(ctx, anna, "mitte", "schalter-1", b1)),
        ((1, 51), lambda: actions.act(ctx, anna, b1, Action.START)),
        ((2, 0), lambda: actions.act(ctx, anna, b1, Action.FINISH)),
    ]
    for (hour, minute), step in steps:
        at(clock, hour, minute)
        step()
    at(clock, 22, 30)
    g1 = issue("beglaubigung")
    at(clock, 22, 40)
    actions.act(ctx, anna, g1, Action.CANCEL)
    at(clock, 23, 10)
    g2 = issue("beglaubigung")
    at(clock, 23, 20)
    actions.act(ctx, anna, g2, Action.CANCEL)
    at(clock, 10, 0, day=27)  # two days later: the 25th is closed


def stats(ctx, by="service", first=DAY, last=DAY):
    return office_stats(ctx, KIOSK, "mitte", first, last, (by,))[by]


def rows(kpis) -> dict:
    return {row["key"]: row for row in kpis["rows"]}


def counts(row) -> tuple:
    return tuple(row[k] for k in ("issued", "served", "no_show", "cancelled", "transferred", "refused", "recalled"))


def times(row, name="wait_minutes") -> tuple:
    t = row[name]
    return t["n"], t["mean"], t["median"], t["p90"], t["max"]


def test_the_dst_day_by_service_and_in_total(ctx, dst_day):
    kpis = stats(ctx)
    by = rows(kpis)
    # the transfer counts in the service it went to, the recall where it happened; times go to the issued service
    assert counts(by["ausweis"]) == (3, 2, 1, 1, 1, 0, 0)
    assert times(by["ausweis"]) == (2, 32.5, 32.5, 35.0, 35.0)  # A1 30, A2 35
    assert times(by["ausweis"], "walk_minutes")[:2] == (1, 1.0)
    assert times(by["ausweis"], "service_minutes")[:2] == (1, 8.0)
    assert by["ausweis"]["service_level"] == 50.0  # A1 within 30 minutes (inclusive), A2 not
    assert counts(by["meldewesen"]) == (1, 0, 0, 0, 0, 0, 1)
    assert times(by["meldewesen"]) == (1, 29.0, 29.0, 29.0, 29.0)
    assert times(by["meldewesen"], "walk_minutes")[:2] == (1, 2.0)  # from the recall, not the first call
    assert times(by["meldewesen"], "service_minutes")[:2] == (1, 23.0)  # first start to finish
    assert by["meldewesen"]["service_level"] == 0.0  # 29 > 20
    assert counts(by["abholung"]) == (0, 0, 0, 0, 0, 1, 0)
    assert by["abholung"]["refusals"]["service_closed"] == 1 and by["abholung"]["service_level"] is None
    assert counts(by["beglaubigung"]) == (1, 0, 0, 1, 0, 0, 0)  # G1 only: G2 is the 26th's
    total = kpis["total"]
    assert counts(total) == (5, 2, 1, 2, 1, 1, 1)
    assert times(total) == (3, 31.33, 30.0, 35.0, 35.0)
    assert total["service_level"] == 33.3
    assert kpis["services"][0]["service"] == "ausweis" and total["service"] is None


def test_the_dst_day_by_counter_and_clerk(ctx, dst_day):
    counters = rows(stats(ctx, "counter"))
    assert set(counters) == {"schalter-1", "schalter-2", "-"}
    assert counts(counters["schalter-1"]) == (0, 2, 1, 0, 0, 0, 0)
    assert times(counters["schalter-1"])[:2] == (2, 32.5)  # the waits of the tickets it called first
    assert times(counters["schalter-1"], "service_minutes")[:2] == (1, 8.0)  # A1; B1 was started at schalter-2
    assert counts(counters["schalter-2"]) == (0, 0, 0, 0, 1, 0, 1)
    assert times(counters["schalter-2"], "service_minutes")[:2] == (1, 23.0)
    assert counts(counters["-"]) == (5, 0, 0, 2, 0, 1, 0)  # issues, refusals, cancels of waiting tickets
    assert counters["-"]["label"] is None and counters["schalter-1"]["label"]
    clerks = rows(stats(ctx, "clerk"))
    assert set(clerks) == {"anna", "ben", "-"}
    assert counts(clerks["anna"]) == (0, 2, 1, 2, 0, 0, 0)
    assert times(clerks["anna"])[:2] == (2, 32.5)
    assert counts(clerks["ben"]) == (0, 0, 0, 0, 1, 0, 1)
    assert times(clerks["ben"])[:2] == (1, 29.0)
    assert times(clerks["ben"], "walk_minutes")[:2] == (1, 2.0)
    assert counts(clerks["-"]) == (5, 0, 0, 0, 0, 1, 0)


def test_the_dst_day_by_hour_weekday_and_day(ctx, dst_day):
    hours = rows(stats(ctx, "hour"))
    assert set(hours) == {2, 3, 23}  # both 02:xx hours (summer and winter time) are hour 2
    assert counts(hours[2]) == (4, 1, 1, 1, 1, 1, 1)
    assert times(hours[2]) == (3, 31.33, 30.0, 35.0, 35.0)  # by the hour the ticket was drawn
    assert counts(hours[3]) == (0, 1, 0, 0, 0, 0, 0) and hours[3]["wait_minutes"]["n"] == 0
    assert counts(hours[23]) == (1, 0, 0, 1, 0, 0, 0) and hours[23]["label"] == "23:00"
    week = stats(ctx, "weekday", date(2026, 10, 24), date(2026, 10, 26))
    assert [(r["key"], r["label"], r["issued"]) for r in week["rows"]] == [
        (1, "Monday", 1), (6, "Saturday", 0), (7, "Sunday", 5)]
    days = stats(ctx, "day", date(2026, 10, 24), date(2026, 10, 26))
    assert [(r["key"], r["issued"], r["cancelled"]) for r in days["rows"]] == [
        ("2026-10-24", 0, 0), ("2026-10-25", 5, 2), ("2026-10-26", 1, 1)]
    assert days["total"]["issued"] == 6


def test_the_spring_dst_day_measures_real_minutes(ctx, clock, clerks):
    """2026-03-29: 02:00 local does not exist. Drawn 01:30 CET (00:30Z), called 03:10 CEST (01:10Z): 40 minutes."""
    clock.set(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    ticket = issuing.issue_ticket(ctx, KIOSK, "mitte", "ausweis")[0]
    clock.set(datetime(2026, 3, 29, 1, 10, tzinfo=UTC))
    calling.call_ticket(ctx, clerks[0], "mitte", "schalter-1", ticket["id"])
    kpis = office_stats(ctx, KIOSK, "mitte", date(2026, 3, 29), date(2026, 3, 29), ("service", "hour"))
    assert rows(kpis["service"])["ausweis"]["wait_minutes"]["max"] == 40.0
    assert sorted(rows(kpis["hour"])) == [1]  # the call at 03:10 counts nothing; the wait goes to the issue hour


def cached_days(ctx) -> set[date]:
    with ctx.db.read_session() as session:
        return set(session.scalars(select(DailyStats.day).distinct()))


def everything(ctx, first=date(2026, 10, 24), last=date(2026, 10, 27)) -> dict:
    return office_stats(ctx, KIOSK, "mitte", first, last, DIMENSIONS)


def test_closed_days_are_cached_and_give_the_same_numbers_as_the_events(ctx, dst_day):
    with ctx.db.read_session() as session:
        office = session.scalars(select(Office).where(Office.slug == "mitte")).one()
        from_events = {by: office_kpis(session, office, date(2026, 10, 24), date(2026, 10, 27), by)
                       for by in DIMENSIONS}
    assert cached_days(ctx) == set()
    assert everything(ctx) == from_events
    assert cached_days(ctx) == {date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)}  # not today (27th)
    assert everything(ctx) == from_events  # now read from the cache
    with ctx.db.write_session() as session:  # proof that the cache is what is read: spoil it ...
        session.execute(update(DailyStats).where(DailyStats.day == DAY).values(data={}))
        session.commit()
    assert everything(ctx)["service"]["total"]["issued"] == 1
    rebuilt = rollup.rebuild(ctx, office="mitte")  # ... and rebuild it from the events
    assert [(r.office, r.first, r.days) for r in rebuilt] == [("mitte", DAY, 2)]  # the 25th and 26th
    assert everything(ctx) == from_events


def test_a_day_with_a_ticket_still_open_is_not_cached(ctx, clock, dst_day):
    clock.set(datetime(2026, 10, 28, 8, 0, tzinfo=UTC))
    waiting = issuing.issue_ticket(ctx, KIOSK, "mitte", "ausweis")[0]
    clock.set(datetime(2026, 10, 30, 8, 0, tzinfo=UTC))
    assert stats(ctx, first=date(2026, 10, 28), last=date(2026, 10, 29))["total"]["issued"] == 1
    assert date(2026, 10, 28) not in cached_days(ctx)
    actions.act(ctx, KIOSK, waiting["id"], Action.CANCEL)  # on the 30th: the cancel counts there
    assert stats(ctx, first=date(2026, 10, 28), last=date(2026, 10, 30))["total"]["cancelled"] == 1
    assert {date(2026, 10, 28), date(2026, 10, 29)} <= cached_days(ctx)


def test_cached_days_survive_retention_with_the_same_numbers(ctx, clock, dst_day):
    before = everything(ctx)  # caches the 24th to the 26th
    clock.set(datetime(2026, 10, 28, 10, 0, tzinfo=UTC))
    purge(ctx, days=1)  # details before the 27th are deleted; their statistics stay
    after = everything(ctx)
    assert after["service"]["aggregated_days"] == 3
    for by in DIMENSIONS:
        assert {**after[by], "aggregated_days": 0} == {**before[by], "aggregated_days": 0}
    assert rollup.rebuild(ctx, office="mitte")[0].days == 0  # nothing left to rebuild from: kept as it was
    assert everything(ctx) == after


def test_stored_days_are_aggregated_once_per_process_until_their_rows_change(ctx, dst_day, monkeypatch):
    from server.stats import daily

    first = everything(ctx)  # caches the closed days as rows, and their aggregate in this process
    parsed = []
    original = daily.DayStats.from_data.__func__
    monkeypatch.setattr(daily.DayStats, "from_data", classmethod(lambda cls, data: parsed.append(1) or
                                                                original(cls, data)))
    assert everything(ctx) == first and parsed == []  # the stored days' aggregate came from memory
    rollup.rebuild(ctx, office="mitte")  # rows rewritten: read again
    assert everything(ctx) == first and parsed
    parsed.clear()
    with ctx.db.write_session() as session:  # a row changed in place, same created_at: its size tells
        session.execute(update(DailyStats).where(DailyStats.day == DAY).values(data={}))
        session.commit()
    assert everything(ctx)["service"]["total"]["issued"] == 1 and parsed

"""Retention on each database: old ticket details gone, their statistics intact as anonymous daily aggregates,
nothing newer touched, a second run a no-op, a dry run harmless, and a failure leaves the office as it was."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from server.auth import sessions
from server.auth.tokens import actor_for_token, create_token
from server.auth.users import add_user
from server.db.models import (
    AuditEntry,
    DailySequence,
    DailyStats,
    Event,
    Office,
    PairingCode,
    PrintJob,
    Service,
    StaffSession,
    Ticket,
)
from server.queue import Action
from server.services import pairing, printing
from server.services.actions import act
from server.services.calling import call_ticket
from server.services.errors import Invalid, NotFound, ServiceError
from server.services.issuing import issue_ticket
from server.services.issuing_control import set_service_issuing
from server.services.queries import ticket_status
from server.services.retention import purge, status
from server.services.uow import SYSTEM
from server.stats.daily import DayStats
from server.stats.kpis import office_kpis

PRINTER = {"backend": "network", "host": "127.0.0.1", "port": 9100, "paper": 80, "timeout": 1.0}
OLD_DAYS = (datetime(2026, 6, 1, 7, 0, tzinfo=UTC), datetime(2026, 6, 2, 8, 30, tzinfo=UTC))
RECENT_DAYS = (datetime(2026, 8, 28, 7, 0, tzinfo=UTC), datetime(2026, 8, 29, 9, 15, tzinfo=UTC))
TODAY = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
DAYS = 60
CUTOFF = date(2026, 7, 3)  # TODAY in Berlin minus 60 days
INSTANT = datetime(2026, 7, 2, 22, 0, tzinfo=UTC)  # the start of the cutoff day in Berlin (CEST)
RANGES = {"old": (date(2026, 6, 1), date(2026, 6, 30)), "recent": (date(2026, 8, 1), date(2026, 8, 31)),
          "both": (date(2026, 5, 30), date(2026, 8, 31)), "boundary": (date(2026, 7, 2), date(2026, 7, 3))}


def issue(ctx, actor, service: str) -> dict:
    return issue_ticket(ctx, actor, "mitte", service)[0]


def a_day(ctx, clock, kiosk, start: datetime, slower: int) -> list[dict]:
    """One day at office mitte: a printed ticket served, one recalled and served, a no-show, a transfer served
    in its new service, a cancelled one, a refused issue; `slower` stretches the waits (minutes)."""
    clock.set(start)
    a1 = issue(ctx, kiosk, "ausweis")
    job = a1["print"]["id"]
    printing.start(ctx, job)
    printing.finish(ctx, job, status="ok")
    clock.advance(minutes=2)
    b1 = issue(ctx, SYSTEM, "meldewesen")
    clock.advance(minutes=1, seconds=13)
    a2 = issue(ctx, SYSTEM, "ausweis")
    clock.advance(minutes=1)
    c1 = issue(ctx, SYSTEM, "abholung")
    d1 = issue(ctx, SYSTEM, "beglaubigung")
    set_service_issuing(ctx, SYSTEM, "mitte", "beglaubigung", False)
    with pytest.raises(ServiceError):
        issue(ctx, SYSTEM, "beglaubigung")  # refused: a fact for the statistics
    set_service_issuing(ctx, SYSTEM, "mitte", "beglaubigung", True)
    clock.advance(minutes=5 + slower, seconds=7)
    call_ticket(ctx, SYSTEM, "mitte", "schalter-1", a1["id"])
    clock.advance(minutes=1, seconds=7)
    act(ctx, SYSTEM, a1["id"], Action.START)
    call_ticket(ctx, SYSTEM, "mitte", "schalter-2", a2["id"])
    clock.advance(seconds=40)
    act(ctx, SYSTEM, a2["id"], Action.RECALL)
    clock.advance(minutes=1)
    act(ctx, SYSTEM, a2["id"], Action.START)
    call_ticket(ctx, SYSTEM, "mitte", "schalter-3", b1["id"])
    clock.advance(minutes=2)
    act(ctx, SYSTEM, b1["id"], Action.NO_SHOW)
    act(ctx, SYSTEM, c1["id"], Action.TRANSFER, service="meldewesen", position="front")
    clock.advance(minutes=3 + slower)
    call_ticket(ctx, SYSTEM, "mitte", "schalter-3", c1["id"])
    clock.advance(seconds=55)
    act(ctx, SYSTEM, c1["id"], Action.START)
    clock.advance(minutes=4, seconds=21)
    for ticket in (a1, a2, c1):
        act(ctx, SYSTEM, ticket["id"], Action.FINISH)
    act(ctx, SYSTEM, d1["id"], Action.CANCEL)
    return [a1, b1, a2, c1, d1]


def across_midnight(ctx, clock) -> dict:
    """Drawn at 23:50 the evening before the cutoff day, called and served after midnight (Berlin)."""
    clock.set(INSTANT - timedelta(minutes=10))
    ticket = issue(ctx, SYSTEM, "abholung")
    clock.set(INSTANT + timedelta(minutes=10))
    call_ticket(ctx, SYSTEM, "mitte", "schalter-4", ticket["id"])
    clock.advance(minutes=1)
    act(ctx, SYSTEM, ticket["id"], Action.START)
    clock.advance(minutes=3)
    act(ctx, SYSTEM, ticket["id"], Action.FINISH)
    return ticket


@pytest.fixture
def history(ctx, clock):
    return build_history(ctx, clock)


def build_history(ctx, clock) -> dict[str, list[dict]]:
    """Two old days, a ticket across the cutoff midnight and two recent days at mitte, a pairing code and a
    staff session on an old and on a recent day; the clock then stands on TODAY."""
    kiosk_token = create_token(ctx, "kiosk-test", device="kiosk", office_slug="mitte")
    printing.set_printer(ctx, "mitte", "kiosk-test", PRINTER)
    with ctx.db.read_session() as session:
        kiosk = actor_for_token(session, kiosk_token)
    user_id = add_user(ctx, "erika", "clerk", "a-long-secret", ["mitte"])
    tickets = {}
    for name, days in (("old", OLD_DAYS), ("recent", RECENT_DAYS)):
        tickets[name] = []
        for i, start in enumerate(days):
            tickets[name] += a_day(ctx, clock, kiosk, start, slower=3 * i)
            pairing.create_device(ctx, SYSTEM, "mitte", f"display-{start:%m%d}", "display")
            pairing.new_code(ctx, SYSTEM, "mitte", f"display-{start:%m%d}")
            sessions.start(ctx, user_id, timedelta(hours=12), "192.0.2.1")
    tickets["midnight"] = [across_midnight(ctx, clock)]
    clock.set(TODAY)
    return tickets


def all_kpis(ctx) -> dict:
    with ctx.db.read_session() as session:
        office = session.scalars(select(Office).where(Office.slug == "mitte")).one()
        return {name: office_kpis(session, office, first, last) for name, (first, last) in RANGES.items()}


def without_aggregated(kpis: dict) -> dict:
    return {name: {k: v for k, v in value.items() if k != "aggregated_days"} for name, value in kpis.items()}


TABLES = (Ticket, Event, PrintJob, PairingCode, StaffSession, DailySequence, DailyStats, AuditEntry)


def counts(ctx) -> dict[str, int]:
    with ctx.db.read_session() as session:
        return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) for t in TABLES}


def recent_rows(ctx) -> dict[str, list]:
    """Every column of every row retention must not touch."""
    with ctx.db.read_session() as session:
        kept = select(Ticket.id).where(Ticket.service_day >= CUTOFF)
        return {
            "tickets": session.execute(select(Ticket.__table__).where(Ticket.service_day >= CUTOFF)
                                       .order_by(Ticket.id)).all(),
            "events": session.execute(select(Event.__table__).where(Event.at >= INSTANT).order_by(Event.id)).all(),
            "print_jobs": session.execute(select(PrintJob.__table__).where(PrintJob.ticket_id.in_(kept))
                                          .order_by(PrintJob.id)).all(),
            "pairing_codes": session.execute(select(PairingCode.__table__).where(PairingCode.expires_at >= INSTANT)
                                             .order_by(PairingCode.id)).all(),
            "staff_sessions": session.execute(select(StaffSession.__table__).where(
                StaffSession.expires_at >= INSTANT).order_by(StaffSession.created_at)).all(),
        }


def purged_before(ctx, slug: str = "mitte") -> date | None:
    with ctx.db.read_session() as session:
        return session.scalar(select(Office.details_purged_before).where(Office.slug == slug))


def test_old_details_are_gone_statistics_intact_and_nothing_newer_touched(ctx, clock, history):
    kpis, recent = all_kpis(ctx), recent_rows(ctx)
    assert kpis["old"]["total"]["issued"] == 10 and kpis["old"]["aggregated_days"] == 0
    before = counts(ctx)

    report = purge(ctx, days=DAYS)

    [mitte] = [r for r in report.offices if r.office == "mitte"]
    assert (mitte.cutoff, mitte.purged_before, mitte.aggregated_days) == (CUTOFF, None, 32)  # Jun 1 .. Jul 2
    assert mitte.deleted == {"tickets": 10, "events": before["events"] - len(recent["events"]),
                             "print_jobs": 2, "pairing_codes": 2, "daily_sequences": 9}
    assert report.staff_sessions == 2
    assert purged_before(ctx) == CUTOFF
    with ctx.db.read_session() as session:
        assert session.scalars(select(Ticket.service_day).where(Ticket.service_day < CUTOFF)).all() == [
            date(2026, 7, 2)]  # the ticket served after midnight stays while its events are kept
        assert session.scalar(select(func.count()).select_from(Event).where(Event.at < INSTANT)) == 0
        old_ids = [t["id"] for t in history["old"]]
        assert session.scalars(select(PrintJob).where(PrintJob.ticket_id.in_(old_ids))).all() == []
        assert session.scalar(select(func.count()).select_from(DailySequence)
                              .where(DailySequence.service_day < CUTOFF)) == 0
    assert recent_rows(ctx) == recent
    after = all_kpis(ctx)
    assert without_aggregated(after) == without_aggregated(kpis)
    assert (after["old"]["aggregated_days"], after["both"]["aggregated_days"], after["recent"]["aggregated_days"]) == (
        30, 34, 0)
    assert counts(ctx)["tickets"] == before["tickets"] - 10


def test_the_statistics_kept_are_anonymous_histograms_of_whole_seconds(ctx, history):
    purge(ctx, days=DAYS)
    with ctx.db.read_session() as session:
        ausweis = session.scalar(select(Service.id).where(Service.slug == "ausweis"))
        rows = session.scalars(select(DailyStats).order_by(DailyStats.day, DailyStats.service_id)).all()
    assert {r.day for r in rows} == {date(2026, 6, 1), date(2026, 6, 2), date(2026, 7, 2)}
    first = next(r.data for r in rows if r.day == date(2026, 6, 1) and r.service_id == ausweis)
    # a1: drawn 07:00:00, called 07:09:20, started 07:10:27, finished 07:22:23; a2: drawn 07:03:13, called
    # 07:10:27, recalled 07:11:07, started 07:12:07 (its walk counts from the recall), finished 07:22:23
    by = first.pop("by")
    assert first == {
        "counts": {"issued": 2, "served": 2, "no_show": 0, "cancelled": 0, "transferred": 0, "refused": 0,
                   "recalled": 1},
        "within_target": 2,
        "targeted": 2,
        "waits": {"434": 1, "560": 1},
        "walks": {"60": 1, "67": 1},
        "services": {"616": 1, "716": 1},
    }
    # the breakdowns (issue 6) hold the same kind of tallies per counter id, clerk (user id) and local hour only
    assert set(by) == {"counter", "clerk", "hour"}
    assert all(key == "-" or key.isdigit() for group in by.values() for key in group)
    assert sum(part["counts"]["issued"] for part in by["hour"].values()) == 2
    assert all(set(part) <= set(first) | {"refusals"} for group in by.values() for part in group.values())


def test_a_second_run_does_nothing(ctx, history):
    purge(ctx, days=DAYS)
    before, rows, kpis = counts(ctx), recent_rows(ctx), all_kpis(ctx)
    again = purge(ctx, days=DAYS)
    assert [(r.due, r.daily_stats, sum(r.deleted.values())) for r in again.offices] == [(False, 0, 0)] * 2
    assert again.staff_sessions == 0
    assert (counts(ctx), recent_rows(ctx), all_kpis(ctx)) == (before, rows, kpis)


def test_a_dry_run_deletes_nothing_and_reports_what_a_run_would_do(ctx, history):
    before, rows, kpis = counts(ctx), recent_rows(ctx), all_kpis(ctx)
    dry = purge(ctx, days=DAYS, dry_run=True)
    assert (counts(ctx), recent_rows(ctx), all_kpis(ctx), purged_before(ctx)) == (before, rows, kpis, None)
    real = purge(ctx, days=DAYS)
    assert dry.offices == real.offices and dry.staff_sessions == real.staff_sessions == 2


def test_a_later_run_moves_on_and_merges_with_the_earlier_aggregates(ctx, clock, history):
    kpis = all_kpis(ctx)
    purge(ctx, days=DAYS)
    clock.set(TODAY + timedelta(days=1))
    report = purge(ctx, days=DAYS, office="mitte")
    [mitte] = report.offices
    assert (mitte.purged_before, mitte.cutoff, mitte.aggregated_days) == (CUTOFF, CUTOFF + timedelta(days=1), 1)
    assert mitte.deleted["tickets"] == 1 and mitte.daily_stats == 1  # the ticket served after midnight
    assert report.staff_sessions is None
    assert without_aggregated(all_kpis(ctx)) == without_aggregated(kpis)


def test_a_ticket_served_after_midnight_counts_on_both_days_before_and_after(ctx, clock, history):
    kpis = all_kpis(ctx)["boundary"]
    assert (kpis["total"]["issued"], kpis["total"]["served"], kpis["total"]["wait_minutes"]["max"]) == (1, 1, 20)
    purge(ctx, days=DAYS)
    with ctx.db.read_session() as session:
        office = session.scalars(select(Office).where(Office.slug == "mitte")).one()
        first_day = office_kpis(session, office, date(2026, 7, 2), date(2026, 7, 2))["total"]
        second_day = office_kpis(session, office, CUTOFF, CUTOFF)["total"]
    assert (first_day["issued"], first_day["served"], first_day["wait_minutes"]["n"]) == (1, 0, 1)
    assert (second_day["issued"], second_day["served"], second_day["wait_minutes"]["n"]) == (0, 1, 0)


def test_one_office_only_leaves_other_offices_and_staff_sessions(ctx, clock, history):
    clock.set(OLD_DAYS[0])
    issue_ticket(ctx, SYSTEM, "nord", next(iter(nord_services(ctx))))
    clock.set(TODAY)
    before = counts(ctx)
    report = purge(ctx, days=DAYS, office="mitte")
    assert [r.office for r in report.offices] == ["mitte"] and report.staff_sessions is None
    assert purged_before(ctx, "nord") is None
    assert counts(ctx)["staff_sessions"] == before["staff_sessions"]
    with ctx.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket).join(Office)
                              .where(Office.slug == "nord")) == 1


def nord_services(ctx) -> list[str]:
    with ctx.db.read_session() as session:
        return list(session.scalars(select(Service.slug).join(Office).where(Office.slug == "nord")))


def test_an_old_tickets_status_link_is_gone(ctx, history):
    token = history["old"][0]["status_url"].rsplit("/", 1)[1]
    assert ticket_status(ctx, token)["code"] == history["old"][0]["code"]
    purge(ctx, days=DAYS)
    with pytest.raises(NotFound):
        ticket_status(ctx, token)
    recent = history["recent"][0]["status_url"].rsplit("/", 1)[1]
    assert ticket_status(ctx, recent)["code"] == history["recent"][0]["code"]


def test_through_the_api_stats_are_the_same_and_an_old_status_page_is_404(sqlite_ctx, clock, api):
    history = build_history(sqlite_ctx, clock)
    queries = {name: f"/offices/mitte/stats?from={first}&to={last}" for name, (first, last) in RANGES.items()}

    def stats() -> dict:
        out = {}
        for name, query in queries.items():
            json = api.get(query, "supervisor").get_json()
            csv = api.get(query, "supervisor", headers={"Accept": "text/csv"}).get_data(as_text=True)
            out[name] = ({k: v for k, v in json.items() if k != "aggregated_days"}, csv, json["aggregated_days"])
        return out

    before = stats()
    purge(sqlite_ctx, days=DAYS)
    after = stats()
    assert {n: v[:2] for n, v in after.items()} == {n: v[:2] for n, v in before.items()}
    assert before["old"][0]["total"]["issued"] == 10 and (before["old"][2], after["old"][2]) == (0, 30)
    for ticket, status_code in ((history["old"][1], 404), (history["recent"][1], 200)):
        token = ticket["status_url"].rsplit("/", 1)[1]
        assert api.get(f"/status/{token}").status_code == status_code
        assert api.client.get(f"/t/{token}", headers={"Accept-Language": "en"}).status_code == status_code


def test_the_event_log_is_still_append_only_after_a_purge(ctx, history):
    purge(ctx, days=DAYS)
    with ctx.db.write_session() as session, pytest.raises(DBAPIError) as info:
        session.execute(delete(Event))
        session.commit()
    assert "append-only" in str(info.value)


def test_a_failure_leaves_the_office_as_it_was(ctx, history):
    with ctx.db.write_session() as session:  # a row in the way of the aggregates: the insert fails at the end
        service_id = session.scalar(select(Service.id).where(Service.slug == "ausweis"))
        # filed under another office, so the purge does not take it for mitte's statistics cache and replace it
        office_id = session.scalar(select(Office.id).where(Office.slug == "nord"))
        session.add(DailyStats(service_id=service_id, day=date(2026, 6, 1), office_id=office_id, data={},
                               created_at=TODAY))
        session.commit()
    before, rows = counts(ctx), recent_rows(ctx)
    with pytest.raises(IntegrityError):
        purge(ctx, days=DAYS, office="mitte")
    assert (counts(ctx), recent_rows(ctx), purged_before(ctx)) == (before, rows, None)
    with ctx.db.write_session() as session, pytest.raises(DBAPIError):
        session.execute(delete(Event))
        session.commit()


@pytest.mark.parametrize("days", [0, 3651, -1, True, "90"])
def test_a_bad_period_is_refused_and_changes_nothing(ctx, history, days):
    before = counts(ctx)
    with pytest.raises(Invalid):
        purge(ctx, days=days)
    assert counts(ctx) == before


def test_an_unknown_office_is_refused(ctx, history):
    with pytest.raises(NotFound):
        purge(ctx, days=DAYS, office="nowhere")


def test_status_shows_what_is_due_and_what_is_done(ctx, history):
    [mitte] = [s for s in status(ctx, days=DAYS) if s["office"] == "mitte"]
    assert (mitte["purged_before"], mitte["cutoff"], mitte["old_ticket_days"], mitte["oldest_ticket_day"]) == (
        None, CUTOFF, 3, date(2026, 6, 1))
    purge(ctx, days=DAYS)
    [mitte] = [s for s in status(ctx, days=DAYS) if s["office"] == "mitte"]
    assert (mitte["purged_before"], mitte["old_ticket_days"], mitte["aggregated_days"]) == (CUTOFF, 1, 3)


def test_the_purge_is_audited_with_its_counts(ctx, history):
    purge(ctx, days=DAYS)
    with ctx.db.read_session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.purge")
                                  .order_by(AuditEntry.id)).all()
    assert [(e.actor, e.target) for e in entries] == [("cli", "mitte"), ("cli", "nord"), ("cli", "staff_sessions")]
    assert entries[0].details["tickets"] == 10 and entries[0].details["cutoff"] == "2026-07-03"
    assert entries[2].details == {"staff_sessions": 2}


def test_day_stats_round_trip_through_the_stored_form():
    stats = DayStats(waits=[59.6, 60.2, 600.0], walks=[30.4], services=[], within_target=2)
    stats.counts["issued"] = 3
    back = DayStats.from_data(stats.to_data())
    assert stats.to_data()["waits"] == {"60": 2, "600": 1}
    assert (back.counts, sorted(back.waits.elements()), sorted(back.walks.elements()), back.within_target) == (
        stats.counts, [60, 60, 600], [30], 2)
    assert DayStats().is_empty() and not back.is_empty()


def test_live_traffic_during_a_purge_neither_deadlocks_nor_is_lost(ctx, clock, history):
    """Tickets keep being issued and called in the purged office while the purge runs (PostgreSQL: the event
    log's table lock is taken before the office row, the order every live write takes them in)."""
    import threading

    stop, errors, issued = threading.Event(), [], []

    def live():
        while not stop.is_set():
            try:
                ticket = issue(ctx, SYSTEM, "ausweis")
                issued.append(ticket["id"])
                call_ticket(ctx, SYSTEM, "mitte", "schalter-1", ticket["id"])
            except Exception as exc:  # noqa: BLE001 (collected and asserted below)
                errors.append(exc)

    workers = [threading.Thread(target=live) for _ in range(3)]
    for w in workers:
        w.start()
    try:
        for day in range(4):
            clock.set(TODAY + timedelta(days=day))  # each run has a new day to aggregate and delete
            assert purge(ctx, days=DAYS, office="mitte").offices[0].due
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert errors == [] and len(issued) > 0
    with ctx.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.id.in_(issued))) == len(issued)

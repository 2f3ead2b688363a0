"""What the estimates learn from the event log: configured minutes without history, and counters' usual hours
across days (server/services/estimates.py, server/services/usual_hours.py)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.queue import Action
from server.queue.estimate import Load
from server.services import actions, calling, estimates, issuing
from server.services.lookup import office_by_slug
from server.services.uow import SYSTEM

MONDAY = date(2026, 3, 2)
THURSDAY = MONDAY + timedelta(days=3)
BERLIN = ZoneInfo("Europe/Berlin")  # the demo office's time zone


@pytest.fixture(autouse=True)
def _fresh_caches():
    estimates.clear_cache()
    yield
    estimates.clear_cache()


def at(ctx, day: date, hhmm: str) -> datetime:
    """Move the fake clock to a local time of the office on `day`."""
    moment = datetime.combine(day, time.fromisoformat(hhmm), BERLIN)
    ctx.clock.set(moment)
    return moment


def counter(ctx, day: date, hhmm: str, state: str, slug: str = "schalter-1") -> None:
    at(ctx, day, hhmm)
    calling.set_counter_state(ctx, SYSTEM, "mitte", slug, state)


def load_at(ctx, day: date, hhmm: str) -> Load:
    now = at(ctx, day, hhmm)
    with ctx.db.read_session() as session:
        return estimates.office_load(session, office_by_slug(session, "mitte").id, now)


def days_with_a_break(ctx, days: int = 3) -> None:
    """Schalter 1 works 08:00-10:00 and 10:15 until the work is done (12:01, after the day's last ticket)."""
    for i in range(days):
        day = MONDAY + timedelta(days=i)
        counter(ctx, day, "08:00", "open")
        counter(ctx, day, "10:00", "closed")
        counter(ctx, day, "10:15", "open")
        at(ctx, day, "12:00")
        issuing.issue_ticket(ctx, SYSTEM, "mitte", "abholung")
        counter(ctx, day, "12:01", "closed")


def test_without_history_a_service_takes_its_configured_minutes(sqlite_ctx):
    now = at(sqlite_ctx, MONDAY, "09:00")
    with sqlite_ctx.db.read_session() as session:
        office = office_by_slug(session, "mitte")
        ausweis = next(s for s in office.services if s.slug == "ausweis")
        assert estimates.service_time(session, office.id, ausweis.id, now).mean == 8.0


def test_on_the_first_day_nothing_is_known_of_the_usual_hours(sqlite_ctx):
    counter(sqlite_ctx, MONDAY, "08:00", "open")
    load = load_at(sqlite_ctx, MONDAY, "09:50")
    assert not load.usual_hours
    assert [(d.open, d.off) for d in load.desks] == [(True, ())]  # only the open counter, no break expected


def test_a_break_seen_on_the_days_before_is_expected_today(sqlite_ctx):
    days_with_a_break(sqlite_ctx)
    counter(sqlite_ctx, THURSDAY, "08:00", "open")
    load = load_at(sqlite_ctx, THURSDAY, "09:50")
    assert load.usual_hours
    # The break 10 to 25 minutes from now; the other counters never opened, so nobody waits for them.
    assert [(d.open, d.off) for d in load.desks] == [(True, ((10.0, 25.0),))]


def test_a_counter_on_its_usual_break_counts_from_its_usual_return(sqlite_ctx):
    days_with_a_break(sqlite_ctx)
    counter(sqlite_ctx, THURSDAY, "08:00", "open")
    counter(sqlite_ctx, THURSDAY, "10:00", "closed")
    assert [(d.open, d.off) for d in load_at(sqlite_ctx, THURSDAY, "10:05").desks] == [(False, ((0.0, 10.0),))]
    # Closed within its usual hours (gone early), it is not expected back today.
    assert load_at(sqlite_ctx, THURSDAY, "11:00").desks == ()


def test_closing_once_the_work_is_done_is_not_taken_for_the_end_of_a_shift(sqlite_ctx):
    days_with_a_break(sqlite_ctx)
    counter(sqlite_ctx, THURSDAY, "08:00", "open")
    counter(sqlite_ctx, THURSDAY, "10:00", "closed")
    counter(sqlite_ctx, THURSDAY, "10:15", "open")
    assert [d.off for d in load_at(sqlite_ctx, THURSDAY, "11:55").desks] == [()]


def test_a_shift_that_ends_before_the_last_ticket_is_expected_to_end(sqlite_ctx):
    for i in range(3):
        day = MONDAY + timedelta(days=i)
        counter(sqlite_ctx, day, "08:00", "open", "schalter-3")
        counter(sqlite_ctx, day, "12:00", "closed", "schalter-3")
        at(sqlite_ctx, day, "12:30")
        issuing.issue_ticket(sqlite_ctx, SYSTEM, "mitte", "abholung")
    counter(sqlite_ctx, THURSDAY, "08:00", "open", "schalter-3")
    assert [d.off for d in load_at(sqlite_ctx, THURSDAY, "11:30").desks] == [((30.0, float("inf")),)]


def test_an_office_that_ignores_service_levels_is_played_that_way(sqlite_ctx):
    counter(sqlite_ctx, MONDAY, "08:00", "open", "schalter-3")  # meldewesen, beglaubigung, ausweis: levels 0, 1, 2
    assert sorted(load_at(sqlite_ctx, MONDAY, "08:05").desks[0].levels.values()) == [0, 1, 2]
    with sqlite_ctx.db.write_session() as session:
        office_by_slug(session, "mitte").policy = {"overdue_first": True, "service_levels": False}
        session.commit()
    estimates.clear_cache()
    assert sorted(load_at(sqlite_ctx, MONDAY, "08:06").desks[0].levels.values()) == [0, 0, 0]


# --- paused counters -------------------------------------------------------------------------------------------

def test_a_paused_counter_counts_from_when_a_pause_is_usually_over(sqlite_ctx):
    # No pause on record: the default PAUSE_MINUTES (15). Paused 5 minutes ago, it is back in 10.
    counter(sqlite_ctx, MONDAY, "08:00", "open")
    counter(sqlite_ctx, MONDAY, "09:00", "paused")
    [desk] = load_at(sqlite_ctx, MONDAY, "09:05").desks
    assert (desk.open, desk.off) == (True, ((0.0, pytest.approx(10.0)),))  # staffed: its clerk is on a break
    # Past its usual length it is due soon (a quarter of a pause), and after three it is taken as closed.
    assert load_at(sqlite_ctx, MONDAY, "09:20").desks[0].off == ((0.0, pytest.approx(3.75)),)
    assert load_at(sqlite_ctx, MONDAY, "09:46").desks == ()


def test_the_typical_pause_is_learned_from_the_days_before(sqlite_ctx):
    for i, minutes in enumerate((6, 8, 40)):  # the median, 8, not the mean
        day = MONDAY + timedelta(days=i)
        counter(sqlite_ctx, day, "08:00", "open")
        counter(sqlite_ctx, day, "09:00", "paused")
        counter(sqlite_ctx, day, f"09:{minutes:02d}", "open")
        counter(sqlite_ctx, day, "17:00", "paused")  # paused, then closed: the end of the day, not a pause
        counter(sqlite_ctx, day, "17:30", "closed")
    counter(sqlite_ctx, THURSDAY, "08:00", "open")
    counter(sqlite_ctx, THURSDAY, "11:00", "paused")
    [desk] = load_at(sqlite_ctx, THURSDAY, "11:02").desks
    assert desk.off[0] == (0.0, pytest.approx(6.0))


def test_a_pause_lengthens_the_wait_less_than_a_close(sqlite_ctx):
    for slug in ("schalter-1", "schalter-2"):
        counter(sqlite_ctx, MONDAY, "08:00", "open", slug)
    for _ in range(6):
        issuing.issue_ticket(sqlite_ctx, SYSTEM, "mitte", "ausweis")

    def minutes() -> float:
        now = sqlite_ctx.clock()
        with sqlite_ctx.db.read_session() as session:
            office = office_by_slug(session, "mitte")
            ausweis = next(s for s in office.services if s.slug == "ausweis")
            return estimates.estimate_for(session, office.id, ausweis.id, 6, now).minutes

    both = minutes()
    counter(sqlite_ctx, MONDAY, "08:01", "paused", "schalter-2")
    paused = minutes()
    counter(sqlite_ctx, MONDAY, "08:01", "closed", "schalter-2")
    closed = minutes()
    assert both < paused < closed


def test_a_counter_paused_on_its_usual_break_counts_from_its_usual_return(sqlite_ctx):
    days_with_a_break(sqlite_ctx)  # back at 10:15 each day
    counter(sqlite_ctx, THURSDAY, "08:00", "open")
    counter(sqlite_ctx, THURSDAY, "10:10", "paused")
    [desk] = load_at(sqlite_ctx, THURSDAY, "10:12").desks
    assert desk.off == ((0.0, pytest.approx(3.0)),)  # its own rota, not the typical pause (13 more minutes)
    # Paused outside its usual breaks: the typical pause, then its usual hours again.
    counter(sqlite_ctx, THURSDAY, "10:15", "open")
    counter(sqlite_ctx, THURSDAY, "11:00", "paused")
    [desk] = load_at(sqlite_ctx, THURSDAY, "11:05").desks
    assert desk.off == ((0.0, pytest.approx(10.0)),)


def test_a_service_whose_only_counter_is_paused_gets_a_number_until_the_pause_is_given_up(sqlite_ctx):
    counter(sqlite_ctx, MONDAY, "08:00", "open")  # schalter-1: the only counter open for "abholung"

    def estimate(hhmm: str):
        now = at(sqlite_ctx, MONDAY, hhmm)
        with sqlite_ctx.db.read_session() as session:
            office = office_by_slug(session, "mitte")
            service = next(s for s in office.services if s.slug == "abholung")
            return estimates.estimate_for(session, office.id, service.id, 0, now)

    counter(sqlite_ctx, MONDAY, "09:00", "paused")
    soon = estimate("09:05")
    assert soon.reason is None and soon.minutes == pytest.approx(10.0)  # its clerk is back in about 10 minutes
    assert soon.low < 10 < soon.high
    assert estimate("09:46").reason == "no_counter_open"  # three pauses long: not a break any more


# --- arrivals and the tickets at the counters ------------------------------------------------------------------

def learned_at(ctx, day: date, hhmm: str):
    now = at(ctx, day, hhmm)
    with ctx.db.read_session() as session:
        office = office_by_slug(session, "mitte")
        ids = {s.slug: s.id for s in office.services}
        return estimates.learned_of(session, office.id, now), ids


def test_the_arrivals_of_the_days_before_at_this_time_join_the_recent_ones(sqlite_ctx):
    for minute in range(6):  # Monday 09:00-09:20: six "abholung" tickets, one every 4 minutes
        at(sqlite_ctx, MONDAY, f"09:{4 * minute:02d}")
        issuing.issue_ticket(sqlite_ctx, SYSTEM, "mitte", "abholung")
    # Tuesday 08:55, nothing drawn yet today: the six of Monday's next half hour, over 30 minutes of Monday and
    # the shortest recent window (10 minutes).
    learned, ids = learned_at(sqlite_ctx, MONDAY + timedelta(days=1), "08:55")
    assert learned.arrivals == {ids["abholung"]: pytest.approx(6 / 40)}
    # At 09:10 three of Monday's are still ahead (09:12-09:20); two drawn today in the last 10 minutes join them.
    for hhmm in ("09:00", "09:05"):
        at(sqlite_ctx, MONDAY + timedelta(days=1), hhmm)
        issuing.issue_ticket(sqlite_ctx, SYSTEM, "mitte", "abholung")
    estimates.clear_cache()
    learned, ids = learned_at(sqlite_ctx, MONDAY + timedelta(days=1), "09:10")
    assert learned.arrivals == {ids["abholung"]: pytest.approx((3 + 2) / (10 + 30))}


def served(ctx, day: date, start: datetime, walk: float, service: float) -> int:
    """One "abholung" ticket at schalter-1: drawn and called at `start`, started after `walk` minutes, finished
    `service` minutes later; returns its id."""
    ctx.clock.set(start)
    issuing.issue_ticket(ctx, SYSTEM, "mitte", "abholung")
    ticket = calling.call_next(ctx, SYSTEM, "mitte", "schalter-1")
    ctx.clock.set(start + timedelta(minutes=walk))
    actions.act(ctx, SYSTEM, ticket["id"], Action.START)
    ctx.clock.set(start + timedelta(minutes=walk + service))
    actions.act(ctx, SYSTEM, ticket["id"], Action.FINISH)
    return ticket["id"]


def test_a_ticket_not_started_yet_has_its_whole_service_ahead(sqlite_ctx):
    counter(sqlite_ctx, MONDAY, "08:00", "open")
    start = at(sqlite_ctx, MONDAY, "08:00")
    for i in range(12):  # walks of 0.5 and 1.5 minutes, services of 1 and 3
        served(sqlite_ctx, MONDAY, start + timedelta(minutes=10 * i), 0.5 + i % 2, 1.0 + 2 * (i % 2))
    counter(sqlite_ctx, MONDAY + timedelta(days=1), "08:00", "open")
    learned, ids = learned_at(sqlite_ctx, MONDAY + timedelta(days=1), "08:00")
    assert learned.calls.walk.mean == pytest.approx(1.0, abs=0.01) and learned.calls.gone is None
    assert learned.serve[ids["abholung"]].mean == pytest.approx(2.0, abs=0.01)  # the configured 2 minutes agree
    issuing.issue_ticket(sqlite_ctx, SYSTEM, "mitte", "abholung")
    ticket = calling.call_next(sqlite_ctx, SYSTEM, "mitte", "schalter-1")
    waiting = load_at(sqlite_ctx, MONDAY + timedelta(days=1), "08:01").desks[0].free_in
    actions.act(sqlite_ctx, SYSTEM, ticket["id"], Action.START)
    estimates.changed({learned_office_id(sqlite_ctx)})
    started = load_at(sqlite_ctx, MONDAY + timedelta(days=1), "08:01").desks[0].free_in
    # Called a minute ago and not started: the rest of the walk and a whole service; started just now: a service.
    assert waiting == pytest.approx(learned.calls.walk.left(1.0)[0] + 2.0, abs=0.01)
    assert started == pytest.approx(2.0, abs=0.01)
    assert waiting > 2.4


def learned_office_id(ctx) -> int:
    with ctx.db.read_session() as session:
        return office_by_slug(session, "mitte").id


def drawn_and_called(ctx, issued: datetime, pickup: float) -> None:
    """An "abholung" ticket drawn at a free schalter-1 and called `pickup` minutes later, finished after 2."""
    ctx.clock.set(issued)
    issuing.issue_ticket(ctx, SYSTEM, "mitte", "abholung")
    ctx.clock.set(issued + timedelta(minutes=pickup))
    ticket = calling.call_next(ctx, SYSTEM, "mitte", "schalter-1")
    actions.act(ctx, SYSTEM, ticket["id"], Action.START)
    ctx.clock.set(issued + timedelta(minutes=pickup + 2))
    actions.act(ctx, SYSTEM, ticket["id"], Action.FINISH)


@pytest.mark.parametrize(("pickup", "reads"), [(0.0, (0, 0)), (1.0, (0, 2))])
def test_how_long_a_free_counter_takes_to_call_is_learned_from_the_log(ctx, pickup, reads):
    counter(ctx, MONDAY, "08:00", "open")
    start = at(ctx, MONDAY, "08:00")
    for i in range(40):  # each drawn while the counter stands free, after its last ticket
        drawn_and_called(ctx, start + timedelta(minutes=3 * i + 1), pickup)
    # A ticket drawn while the counter is busy waits for it: its wait says nothing of the clerk's pickup.
    at(ctx, MONDAY, "10:10")
    issuing.issue_ticket(ctx, SYSTEM, "mitte", "abholung")
    at(ctx, MONDAY, "10:11")
    issuing.issue_ticket(ctx, SYSTEM, "mitte", "abholung")
    first = calling.call_next(ctx, SYSTEM, "mitte", "schalter-1")
    actions.act(ctx, SYSTEM, first["id"], Action.START)
    at(ctx, MONDAY, "10:14")
    actions.act(ctx, SYSTEM, first["id"], Action.FINISH)
    second = calling.call_next(ctx, SYSTEM, "mitte", "schalter-1")  # drawn 3 minutes ago, called at once
    actions.act(ctx, SYSTEM, second["id"], Action.START)
    actions.act(ctx, SYSTEM, second["id"], Action.FINISH)
    counter(ctx, MONDAY, "10:15", "closed")
    counter(ctx, MONDAY, "10:30", "open")
    learned, _ = learned_at(ctx, MONDAY, "10:30")
    # 40 pickups: 39 of the 40 (the log is read from the oldest call on, so what came before that one is not
    # known), and the first of the two above, drawn at the free counter a minute before its call. The default
    # counts as 5 of them.
    assert learned.pickup.measured == pytest.approx(40, abs=0.4)
    assert learned.pickup.mean == pytest.approx((39 * pickup + 1.0 + 5 * 0.5) / 45, abs=0.02)
    # A ticket drawn now, with the counter free: 0-0 for clerks who call at once, else the range covers theirs.
    estimates.changed({learned_office_id(ctx)})
    ticket, _ = issuing.issue_ticket(ctx, SYSTEM, "mitte", "abholung")
    assert (ticket["estimate"]["low"], ticket["estimate"]["high"]) == reads


def test_the_pickup_is_read_again_only_after_its_ttl(sqlite_ctx, monkeypatch):
    reads = []
    real = estimates._read_pickup
    monkeypatch.setattr(estimates, "_read_pickup", lambda *a: reads.append(a) or real(*a))
    for hhmm in ("09:00", "09:02", "09:09"):  # the service times are learned anew each minute, the pickup not
        learned_at(sqlite_ctx, MONDAY, hhmm)
    assert len(reads) == 1
    learned_at(sqlite_ctx, MONDAY, "09:10")  # PICKUP_TTL (10 minutes) after the first read
    assert len(reads) == 2

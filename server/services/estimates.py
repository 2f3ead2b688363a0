"""Learned waiting-time estimates and the cut-off forecast, fed from the database.

Per request: four small reads of what is live now (counters and their services, each queue's length and first
tickets, transfers, the tickets at the counters), memoised per session and shared for up to LOAD_TTL. Per
process: the learned service times of each office, read from the last `RECENT_DAYS` of finished tickets
(call -> finish) and kept `TTL`, the counters' usual hours (once a day, server/services/usual_hours.py) and the
tickets issued on the days before (once a day, `_arrival_history`), and how long a free counter takes to call
a new ticket (`_pickup`, kept `PICKUP_TTL`); no history is read per request.
"""

from __future__ import annotations

import bisect
import functools
import math
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, union_all
from sqlalchemy.orm import Session

from server.db.models import Counter, CounterService, Event, Office, Service, Ticket
from server.queue import estimate as model
from server.queue.cutoff import cutoff_at
from server.queue.estimate import Calls, Desk, Estimate, Load, ServiceTime, forecast, learn, measure
from server.queue.policy import Policy
from server.queue.rota import PAUSE_GIVE_UP, PAUSE_MINUTES, Period, off_from_now, pause_left
from server.stats.daily import day_bounds

from . import usual_hours

TTL = timedelta(seconds=60)
LOAD_TTL = timedelta(seconds=1)  # how long a process reuses an office's live load between changes
RECENT_DAYS = 28
RECENT_TICKETS = 300  # per service and state

PICKUP_CALLS = 400  # the office's latest calls read for how long a free counter takes to call (`_pickup`)
PICKUP_TTL = timedelta(minutes=10)  # how long a process keeps that (it changes slowly; reading it takes 2-3 ms)
MIN_WALKS = 10.0  # measured walks (call -> start) before a ticket's start at the counter is read (see Calls)
ARRIVALS_WINDOW = timedelta(minutes=30)  # tickets issued in this window give each service's arrival rate
MIN_ARRIVALS_MINUTES = 10.0
ARRIVAL_DAYS = 5  # the office's last days with tickets whose arrivals at this time of day join the recent ones
ARRIVAL_LOOKBACK = timedelta(days=14)  # read once a day: five working days even across a week of holidays


@dataclass(frozen=True)
class Learned:
    """What an office's recent history says, per service id."""

    times: dict[int, ServiceTime]
    arrivals: dict[int, float]  # tickets per minute
    target_waits: dict[int, float]  # minutes; empty when the office's policy does not call overdue tickets first
    levels: bool  # the office's policy serves a counter's services by level (else all alike, oldest first)
    tz: ZoneInfo
    rota: dict[int, list[Period]]  # counter id -> its usual open periods today (no history: absent)
    pause: float = PAUSE_MINUTES  # minutes a pause usually lasts in this office
    serve: dict[int, ServiceTime] | None = None  # per service id, start -> finish; with `calls`
    calls: Calls | None = None  # how called customers reach the counter (None: too few starts on record)
    pickup: ServiceTime = model.NO_PICKUP  # how long a free counter takes to call a new ticket


# keyed by (database URL, office id): the URL tells apart every database a process (or a test run) opens
_cache: dict[tuple, tuple[datetime, Learned]] = {}
_loads: dict[tuple, tuple[datetime, Load]] = {}
_history: dict[tuple, tuple[int, dict[int, list[float]]]] = {}  # see `_arrival_history`
_pickups: dict[tuple, tuple[datetime, ServiceTime]] = {}  # see `_pickup`
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every learned service time and live load (tests; a new layout)."""
    with _lock:
        _cache.clear()
        _loads.clear()
        _history.clear()
        _pickups.clear()
    usual_hours.clear_cache()


def changed(office_ids) -> None:
    """Counters, calls or services of these offices changed (called after the commit): their live loads are
    read afresh. A new ticket alone does not count: the issued ticket's own place is always exact, and the
    other queues' counts may lag by at most LOAD_TTL (also what other processes' changes may lag by)."""
    with _lock:
        for key in [k for k in _loads if k[1] in office_ids]:
            del _loads[key]


def estimate_for(session: Session, office_id: int, service_id: int, ahead: int, now: datetime,
                 issued_at: datetime | None = None) -> Estimate:
    """The wait of a ticket of this service with `ahead` tickets before it in its queue (drawn now by default)."""
    age = 0.0 if issued_at is None else max((now - issued_at).total_seconds() / 60, 0.0)
    return forecast(office_load(session, office_id, now), service_id, ahead, age)


def service_time(session: Session, office_id: int, service_id: int, now: datetime) -> ServiceTime:
    return office_load(session, office_id, now).time_of(service_id)


def cutoff_for(session: Session, office, service_id: int, waiting: int, now: datetime,
               estimate: Estimate | None = None) -> datetime | None:
    """The latest moment a ticket drawn for this service is still served before today's closing (or None)."""
    if not office.opening_hours:
        return None
    estimate = estimate or estimate_for(session, office.id, service_id, waiting, now)
    if estimate.minutes is None:
        return None
    serve = service_time(session, office.id, service_id, now).mean
    return cutoff_at(office.opening_hours, ZoneInfo(office.timezone), now, estimate.minutes + serve)


# --- what is live now ----------------------------------------------------------------------------------------

_DESKS = (select(CounterService.counter_id, CounterService.service_id, CounterService.level, Counter.state)
          .join(Counter, Counter.id == CounterService.counter_id)
          .where(Counter.office_id == bindparam("office_id")))
HEADS = 8  # the first tickets of each queue read as they are (the forecast spreads the rest evenly)


@functools.cache
def _queues_query(services: int):
    """Per service (bound as s0, s1, ...): its queue's length and its first HEADS tickets, by ix_tickets_age.
    Tickets transferred to a counter are in that counter's queue, not the service's."""
    parts = []
    for i in range(services):
        queued = (Ticket.service_id == bindparam(f"s{i}"), Ticket.state == "waiting",
                  Ticket.target_counter_id.is_(None))
        length = select(func.count()).where(*queued).scalar_subquery()
        first = (select(Ticket.service_id, Ticket.created_at, length.label("n")).where(*queued)
                 .order_by(Ticket.created_at, Ticket.id).limit(HEADS).subquery())
        parts.append(select(first.c.service_id, first.c.created_at, first.c.n))
    return union_all(*parts)


_TRANSFERS = (select(Ticket.target_counter_id, Ticket.service_id, func.count())
              .where(Ticket.target_counter_id.in_(bindparam("counter_ids", expanding=True)),
                     Ticket.state == "waiting")
              .group_by(Ticket.target_counter_id, Ticket.service_id))
_PAUSED_SINCE = (select(Event.counter_id, func.max(Event.at))
                 .where(Event.office_id == bindparam("office_id"), Event.kind == "counter_paused",
                        Event.at >= bindparam("since"), Event.counter_id.in_(bindparam("counter_ids", expanding=True)))
                 .group_by(Event.counter_id))
_AT_COUNTERS = (select(Ticket.counter_id, Ticket.service_id, Ticket.called_at, Ticket.started_at)
                .where(Ticket.office_id == bindparam("office_id"), Ticket.state.in_(["called", "serving"])))


def office_load(session: Session, office_id: int, now: datetime) -> Load:
    """The office's open counters, queues and learned times: read once per session and moment, and shared by
    the process's requests for up to LOAD_TTL unless the office changed meanwhile (see `changed`)."""
    key = ("estimate_load", office_id, now)
    if key not in session.info:
        shared = (session.get_bind().url, office_id)
        with _lock:
            hit = _loads.get(shared)
        if hit is not None and timedelta(0) <= now - hit[0] < LOAD_TTL:
            session.info[key] = hit[1]
        else:
            session.info[key] = _read_load(session, office_id, now)
            with _lock:
                _loads[shared] = (now, session.info[key])
    return session.info[key]


def forget_load(session: Session) -> None:
    """Drop the memoised loads of a session (after it changed the queue and reads again)."""
    for key in [k for k in session.info if isinstance(k, tuple) and k[:1] == ("estimate_load",)]:
        del session.info[key]


def _read_load(session: Session, office_id: int, now: datetime) -> Load:
    conn = session.connection()
    learned = learned_of(session, office_id, now)
    levels, states = _counters(conn, office_id, learned.levels)
    waiting, heads = _queues(conn, list(learned.times), now)
    desks = _desks(conn, office_id, learned, levels, states, now)
    return Load(desks=desks, waiting=waiting, times=learned.times, arrivals=learned.arrivals,
                target_waits=learned.target_waits, oldest={s: w[0] for s, w in heads.items()}, heads=heads,
                usual_hours=bool(learned.rota), pickup=learned.pickup)


def _counters(conn, office_id: int, by_level: bool) -> tuple[dict[int, dict[int, int]], dict[int, str]]:
    """Every counter's services by level (all level 0 when the policy ignores levels), and its state."""
    levels: dict[int, dict[int, int]] = {}
    states: dict[int, str] = {}
    for counter_id, service_id, level, state in conn.execute(_DESKS, {"office_id": office_id}):
        levels.setdefault(counter_id, {})[service_id] = level if by_level else 0
        states[counter_id] = state
    return levels, states


def _queues(conn, service_ids: list[int], now: datetime) -> tuple[dict[int, int], dict[int, tuple[float, ...]]]:
    """Per service: how many wait in its queue, and how long its first HEADS have waited, oldest first."""
    waiting: dict[int, int] = {}
    heads: dict[int, list[float]] = {}
    if service_ids:
        params = {f"s{i}": s for i, s in enumerate(service_ids)}
        for service_id, created_at, n in conn.execute(_queues_query(len(service_ids)), params):
            waiting[service_id] = n
            heads.setdefault(service_id, []).append(max((now - created_at).total_seconds() / 60, 0.0))
    return waiting, {s: tuple(sorted(w, reverse=True)) for s, w in heads.items()}


def _desks(conn, office_id: int, learned: Learned, levels: dict[int, dict[int, int]], states: dict[int, str],
           now: datetime) -> tuple[Desk, ...]:
    """The open counters, each with what is left of its current ticket, its transfers and its breaks ahead;
    the paused ones, from when they are likely back (the office's typical pause after they paused); and the
    closed ones that usually open later today."""
    transfers: dict[int, int] = {}
    for counter_id, _service_id, n in conn.execute(_TRANSFERS, {"counter_ids": list(levels)}) if levels else ():
        transfers[counter_id] = transfers.get(counter_id, 0) + n
    busy: dict[int, tuple[float, float]] = {}
    for counter_id, service_id, called_at, started_at in conn.execute(_AT_COUNTERS, {"office_id": office_id}):
        if counter_id in levels and called_at is not None:
            left = _left(learned, service_id, called_at, started_at, now)
            busy[counter_id] = max(busy.get(counter_id, (0.0, 0.0)), left)
    _, minute = usual_hours.local_minute(now, learned.tz)
    paused = [c for c, state in states.items() if state == "paused"]
    back_in = {}
    if paused:  # one paused longer ago than PAUSE_GIVE_UP pauses is not read: pause_left() gives up on it
        since = now - PAUSE_GIVE_UP * timedelta(minutes=learned.pause)
        for c, at in conn.execute(_PAUSED_SINCE, {"office_id": office_id, "counter_ids": paused, "since": since}):
            back_in[c] = pause_left(learned.pause, (now - at).total_seconds() / 60)
    desks = []
    for c, lv in sorted(levels.items()):
        left, var = busy.get(c, (0.0, 0.0))
        staffed = states[c] == "open"
        if back_in.get(c) is not None:  # paused: off until it is back, then by its usual hours; still staffed
            off, staffed = _paused_off(learned, c, minute, back_in[c], left > 0), True
        else:
            off = off_from_now(learned.rota[c], minute, staffed, left > 0) if c in learned.rota else ()
        if staffed or (off and off[0][1] < math.inf):
            desks.append(Desk(levels=lv, free_in=left, free_var=var, transfers=transfers.get(c, 0), off=off,
                              open=staffed))
    return tuple(desks)


def _left(learned: Learned, service_id: int, called_at: datetime, started_at: datetime | None,
          now: datetime) -> tuple[float, float]:
    """Mean and variance of the minutes left of the ticket at a counter. Whether its customer has come (the
    clerk started it) tells more than the time since the call: one started is that far into its service, one
    not started is still walking up, or nobody is coming and the clerk will give up soon."""
    if learned.calls is None or not learned.serve or service_id not in learned.serve:
        whole = learned.times.get(service_id) or ServiceTime(5.0, 2.5)  # call -> finish
        return whole.left((now - called_at).total_seconds() / 60)
    serve = learned.serve[service_id]
    if started_at is not None:
        return serve.left((now - started_at).total_seconds() / 60)
    return learned.calls.left((now - called_at).total_seconds() / 60, serve)


def _paused_off(learned: Learned, counter_id: int, minute: float, back_in: float, busy: bool) -> tuple:
    """A paused counter's spans off: on its usual break, until it usually comes back (its own rota knows its
    breaks better than the office's typical pause); else for the rest of a typical pause, then by its usual
    hours."""
    rota = learned.rota.get(counter_id)
    if rota is None:
        return ((0.0, back_in),)
    usual_break = off_from_now(rota, minute, False, busy)
    if usual_break and usual_break[0][1] <= PAUSE_GIVE_UP * learned.pause:
        return usual_break
    return ((0.0, back_in), *off_from_now(rota, minute, True, busy))


_ISSUED_BEFORE = (select(Event.service_id, Event.at)
                  .where(Event.office_id == bindparam("office_id"), Event.kind == "issued",
                         Event.at >= bindparam("since"), Event.at < bindparam("until")))


def _arrival_history(session: Session, office_id: int, tz: ZoneInfo, today: date) -> tuple[int, dict[int, list]]:
    """The office's last ARRIVAL_DAYS days with tickets before today: how many, and per service the local minute
    of the day of each ticket issued on them, in order. Read once a day per process."""
    key = (session.get_bind().url, office_id, today)
    with _lock:
        hit = _history.get(key)
    if hit is not None:
        return hit
    until, _ = day_bounds(today, today, tz)
    issued: dict[date, list[tuple[int, float]]] = {}
    for service_id, at in session.connection().execute(
            _ISSUED_BEFORE, {"office_id": office_id, "since": until - ARRIVAL_LOOKBACK, "until": until}):
        if service_id is not None:
            day, minute = usual_hours.local_minute(at, tz)
            issued.setdefault(day, []).append((service_id, minute))
    days = sorted(issued)[-ARRIVAL_DAYS:]
    minutes: dict[int, list[float]] = {}
    for day in days:
        for service_id, minute in issued[day]:
            minutes.setdefault(service_id, []).append(minute)
    hit = (len(days), {s: sorted(m) for s, m in minutes.items()})
    with _lock:
        for stale in [k for k in _history if k[:2] == key[:2] and k[2] != today]:
            del _history[stale]
        _history[key] = hit
    return hit


# --- learned service times, cached per process ---------------------------------------------------------------

_RECENT = (select(Ticket.called_at, Ticket.finished_at, Ticket.started_at, Ticket.created_at)
           .where(Ticket.service_id == bindparam("service_id"), Ticket.state == bindparam("state"),
                  Ticket.created_at >= bindparam("since"), Ticket.called_at.is_not(None),
                  Ticket.finished_at.is_not(None))
           .order_by(Ticket.created_at.desc()).limit(RECENT_TICKETS))


def learned_of(session: Session, office_id: int, now: datetime) -> Learned:
    """An office's learned service times and arrival rates, at most TTL old (a clock gone back refreshes it)."""
    key = (session.get_bind().url, office_id)
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] <= now < hit[0] + TTL:
        return hit[1]
    learned = _learn_office(session, office_id, now)
    with _lock:
        _cache[key] = (now, learned)
    return learned


_CALLS = (select(Event.seq, Event.counter_id, Event.kind, Event.at, Ticket.created_at)
          .join(Ticket, Ticket.id == Event.ticket_id)
          .where(Event.office_id == bindparam("office_id"), Event.kind == "called", Event.at >= bindparam("since"))
          .order_by(Event.at.desc()).limit(PICKUP_CALLS))
_COUNTER_LOG = (select(Event.seq, Event.counter_id, Event.kind, Event.at)
                .where(Event.office_id == bindparam("office_id"), Event.at >= bindparam("since"),
                       Event.kind.in_([k for k in model.PICKUP_KINDS if k != "called"]), Event.counter_id.is_not(None)))


def _pickup(conn, office_id: int, now: datetime, since: datetime) -> ServiceTime:
    """How long the office's counters that stood free took to call a ticket issued meanwhile (issue -> call),
    over its latest PICKUP_CALLS calls (`pickups`), weighted by age like the service times; before any is
    measured, PICKUP_MINUTES. Clerks press "call next", so it is their reaction; clerks who call at once teach
    0 and the estimate says so (a range of 0-0). Read at most every PICKUP_TTL per office and process."""
    key = (conn.engine.url, office_id)
    with _lock:
        hit = _pickups.get(key)
    if hit is not None and hit[0] <= now < hit[0] + PICKUP_TTL:
        return hit[1]
    pickup = _read_pickup(conn, office_id, now, since)
    with _lock:
        _pickups[key] = (now, pickup)
    return pickup


def _read_pickup(conn, office_id: int, now: datetime, since: datetime) -> ServiceTime:
    calls = conn.execute(_CALLS, {"office_id": office_id, "since": since}).all()
    if not calls:
        return model.NO_PICKUP
    log = [tuple(row) for row in calls]
    log += [(*row, None) for row in conn.execute(_COUNTER_LOG, {"office_id": office_id, "since": calls[-1].at})]
    log.sort(key=lambda row: row[0])
    waits = model.pickups(row[1:] for row in log)
    return learn((((now - at).total_seconds() / 86400, minutes) for at, minutes in waits), model.PICKUP_MINUTES)


_ISSUED = (select(Event.service_id, func.count(), func.min(Event.at))
           .where(Event.office_id == bindparam("office_id"), Event.kind == "issued", Event.at >= bindparam("since"))
           .group_by(Event.service_id))


def _learn_office(session: Session, office_id: int, now: datetime) -> Learned:
    """Each service's time per called ticket from its finished and no-show tickets of the recent days (and,
    where clerks start their tickets, its time from start to finish, the office's walks and no-shows: `Calls`),
    and its arrival rate from the issue events of the last half hour and of the days before at this time.

    Read by (service, state, created_at) and (office, kind, at): indexed, newest first, bounded.
    """
    conn = session.connection()
    since = now - timedelta(days=RECENT_DAYS)
    times, targets, serve = {}, {}, {}
    walks, gone, calls_done, calls_missed = [], [], 0, 0
    office = session.get(Office, office_id)
    policy, tz = Policy.from_dict(office.policy), ZoneInfo(office.timezone)
    for service_id, configured, target in conn.execute(
            select(Service.id, Service.service_minutes, Service.target_wait_minutes)
            .where(Service.office_id == office_id)):
        if target and policy.overdue_first:
            targets[service_id] = float(target)
        samples, served, created, missed = [], [], [], []
        for state in ("done", "no_show"):
            for called_at, finished_at, started_at, created_at in conn.execute(
                    _RECENT, {"service_id": service_id, "state": state, "since": since}):
                age = (now - finished_at).total_seconds() / 86400
                samples.append((age, (finished_at - called_at).total_seconds() / 60))
                if state == "no_show":
                    gone.append((age, (finished_at - called_at).total_seconds() / 60))
                    missed.append(created_at)
                elif started_at is not None:
                    walks.append((age, (started_at - called_at).total_seconds() / 60))
                    served.append((age, (finished_at - started_at).total_seconds() / 60))
                    created.append(created_at)
        times[service_id] = learn(samples, configured)
        serve[service_id] = learn(served, configured)
        if created:  # the no-shows' share, over the days the done tickets read (at most RECENT_TICKETS) span
            calls_done += len(created)
            calls_missed += sum(1 for at in missed if at >= min(created))
    rows = [r for r in conn.execute(_ISSUED, {"office_id": office_id, "since": now - ARRIVALS_WINDOW})
            if r[0] is not None]
    # The rate over the part of the window since the first ticket in it (the doors opened within it).
    first = min((r[2] for r in rows), default=now)
    window = max((now - first).total_seconds() / 60, MIN_ARRIVALS_MINUTES)
    # Pooled with the arrivals of the next ARRIVALS_WINDOW on the days before at this time of day: half an
    # hour's few tickets of a small service say little about its rate alone, and the days before also know
    # whether the rush is still to come.
    today, minute = usual_hours.local_minute(now, tz)
    days, history = _arrival_history(session, office_id, tz, today)
    span = ARRIVALS_WINDOW.total_seconds() / 60
    counts = {s: bisect.bisect_left(m, minute + span) - bisect.bisect_left(m, minute) for s, m in history.items()}
    for service_id, n, _ in rows:
        counts[service_id] = counts.get(service_id, 0) + n
    arrivals = {s: n / (window + days * span) for s, n in counts.items() if n}
    walk = measure(walks)
    calls = None
    if walk is not None and walk.measured >= MIN_WALKS:
        calls = Calls(walk=walk, gone=measure(gone), no_show=calls_missed / (calls_done + calls_missed))
    hours = usual_hours.of_office(session, office_id, tz, today)
    return Learned(times=times, arrivals=arrivals, target_waits=targets, levels=policy.service_levels, tz=tz,
                   rota=hours.rota, pause=hours.pause, serve=serve, calls=calls,
                   pickup=_pickup(conn, office_id, now, since))

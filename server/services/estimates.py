"""Learned waiting-time estimates and the cut-off forecast, fed from the database.

Per request: three small reads of what is live now (open counters and their services, waiting counts, the
tickets at the counters), memoised per session. Per process: the learned service times of each office, read
from the last `RECENT_DAYS` of finished tickets (call -> finish) and kept `TTL`; no history is read per request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from server.db.models import Counter, CounterService, Event, Office, Service, Ticket
from server.queue.cutoff import cutoff_at
from server.queue.estimate import Desk, Estimate, Load, ServiceTime, forecast, learn
from server.queue.policy import Policy

TTL = timedelta(seconds=60)
LOAD_TTL = timedelta(seconds=1)  # how long a process reuses an office's live load between changes
RECENT_DAYS = 28
RECENT_TICKETS = 300  # per service and state

ARRIVALS_WINDOW = timedelta(minutes=30)  # tickets issued in this window give each service's arrival rate
MIN_ARRIVALS_MINUTES = 10.0


@dataclass(frozen=True)
class Learned:
    """What an office's recent history says, per service id."""

    times: dict[int, ServiceTime]
    arrivals: dict[int, float]  # tickets per minute
    target_waits: dict[int, float]  # minutes; empty when the office's policy does not call overdue tickets first


# keyed by (database URL, office id): the URL tells apart every database a process (or a test run) opens
_cache: dict[tuple, tuple[datetime, Learned]] = {}
_loads: dict[tuple, tuple[datetime, Load]] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every learned service time and live load (tests; a new layout)."""
    with _lock:
        _cache.clear()
        _loads.clear()


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

_OPEN_DESKS = (select(CounterService.counter_id, CounterService.service_id, CounterService.level)
               .join(Counter, Counter.id == CounterService.counter_id)
               .where(Counter.office_id == bindparam("office_id"), Counter.state == "open"))
# Index-only reads (ix_tickets_age, ix_tickets_target), however long the queues are.
_WAITING = (select(Ticket.service_id, func.count(), func.min(Ticket.created_at))
            .where(Ticket.service_id.in_(bindparam("service_ids", expanding=True)), Ticket.state == "waiting")
            .group_by(Ticket.service_id))
_TRANSFERS = (select(Ticket.target_counter_id, Ticket.service_id, func.count())
              .where(Ticket.target_counter_id.in_(bindparam("counter_ids", expanding=True)),
                     Ticket.state == "waiting")
              .group_by(Ticket.target_counter_id, Ticket.service_id))
_AT_COUNTERS = (select(Ticket.counter_id, Ticket.service_id, Ticket.called_at)
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
    conn, params = session.connection(), {"office_id": office_id}
    learned = learned_of(session, office_id, now)
    times = learned.times
    levels: dict[int, dict[int, int]] = {}
    for counter_id, service_id, level in conn.execute(_OPEN_DESKS, params):
        levels.setdefault(counter_id, {})[service_id] = level
    waiting: dict[int, int] = {}
    oldest: dict[int, float] = {}
    for service_id, n, first in conn.execute(_WAITING, {"service_ids": list(times)}):
        waiting[service_id] = n
        oldest[service_id] = max((now - first).total_seconds() / 60, 0.0)
    transfers: dict[int, int] = {}
    for counter_id, service_id, n in conn.execute(_TRANSFERS, {"counter_ids": list(levels)}) if levels else ():
        transfers[counter_id] = transfers.get(counter_id, 0) + n
        waiting[service_id] = max(waiting.get(service_id, 0) - n, 0)  # counted above, but not in the queue
    free_in: dict[int, float] = {}
    for counter_id, service_id, called_at in conn.execute(_AT_COUNTERS, params):
        if counter_id in levels and called_at is not None:
            mean = (times.get(service_id) or ServiceTime(5.0, 2.5)).mean
            elapsed = (now - called_at).total_seconds() / 60
            free_in[counter_id] = max(free_in.get(counter_id, 0.0), mean - elapsed, 0.2 * mean)
    desks = tuple(Desk(levels=lv, free_in=free_in.get(c, 0.0), transfers=transfers.get(c, 0))
                  for c, lv in sorted(levels.items()))
    return Load(desks=desks, waiting=waiting, times=times, arrivals=learned.arrivals,
                target_waits=learned.target_waits, oldest=oldest)


# --- learned service times, cached per process ---------------------------------------------------------------

_RECENT = (select(Ticket.called_at, Ticket.finished_at)
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


_ISSUED = (select(Event.service_id, func.count(), func.min(Event.at))
           .where(Event.office_id == bindparam("office_id"), Event.kind == "issued", Event.at >= bindparam("since"))
           .group_by(Event.service_id))


def _learn_office(session: Session, office_id: int, now: datetime) -> Learned:
    """Each service's time per called ticket from its finished and no-show tickets of the recent days, and
    its arrival rate from the issue events of the last half hour.

    Read by (service, state, created_at) and (office, kind, at): indexed, newest first, bounded.
    """
    conn = session.connection()
    since = now - timedelta(days=RECENT_DAYS)
    times, targets = {}, {}
    policy = Policy.from_dict(session.get(Office, office_id).policy)
    for service_id, configured, target in conn.execute(
            select(Service.id, Service.service_minutes, Service.target_wait_minutes)
            .where(Service.office_id == office_id)):
        if target and policy.overdue_first:
            targets[service_id] = float(target)
        samples = []
        for state in ("done", "no_show"):
            for called_at, finished_at in conn.execute(
                    _RECENT, {"service_id": service_id, "state": state, "since": since}):
                samples.append(((now - finished_at).total_seconds() / 86400,
                                (finished_at - called_at).total_seconds() / 60))
        times[service_id] = learn(samples, configured)
    rows = [r for r in conn.execute(_ISSUED, {"office_id": office_id, "since": now - ARRIVALS_WINDOW})
            if r[0] is not None]
    # The rate over the part of the window since the first ticket in it (the doors opened within it).
    first = min((r[2] for r in rows), default=now)
    window = max((now - first).total_seconds() / 60, MIN_ARRIVALS_MINUTES)
    arrivals = {service_id: n / window for service_id, n, _ in rows}
    return Learned(times=times, arrivals=arrivals, target_waits=targets)

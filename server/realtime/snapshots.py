"""What each kind of client gets on (re)connect, and the state pushed after each batch of changes.

Every builder reads the office's seq in the same read transaction as its data, so a client that applies
deltas with a higher seq on top of a snapshot never misses or repeats one.
"""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, func, select, union_all
from sqlalchemy.orm import Session

from server.db.models import Counter, Event, Office, Ticket
from server.queue.numbering import service_day
from server.queue.policy import CounterServices, Policy, rank
from server.services import estimates
from server.services.print_reads import printers_state
from server.services.queries import office_queue_in, ticket_status_in
from server.services.supervision import supervisor_view
from server.services.views import counter_view, iso, service_view, stops_at_cutoff, waiting_candidates
from server.stats.daily import day_bounds

RECENT_CALLS = 12


# Statements of every refresh, built once and bound per call: building one cost more than running it.
_WAITING = (select(Ticket.service_id, func.count(), func.sum(case((Ticket.target_counter_id.is_(None), 1), else_=0)))
            .where(Ticket.office_id == bindparam("office_id"), Ticket.state == "waiting")
            .group_by(Ticket.service_id))


def office_brief(office: Office) -> dict:
    return {"slug": office.slug, "name": office.name, "language": office.language, "timezone": office.timezone}


def waiting_counts(session: Session, office: Office, now) -> list[dict]:
    """Per active service: how many wait, and the estimate for a ticket drawn now (None: it issues none now).

    `waiting` counts every waiting ticket of the service, those transferred to a counter too; a new ticket
    queues behind the others only (transferred ones are called by their counter first).
    """
    counts = {service_id: (n, queued or 0)
              for service_id, n, queued in session.execute(_WAITING, {"office_id": office.id}).all()}
    out = []
    for s in office.services:
        if not s.active:
            continue
        n, queued = counts.get(s.id, (0, 0))
        issuing = office.issuing and s.issuing
        estimate = estimates.estimate_for(session, office.id, s.id, queued, now).as_dict() if issuing else None
        out.append({"service": s.slug, "name": s.names, "prefix": s.prefix, "waiting": n, "estimate": estimate})
    return out


def _recent_calls_statement():
    latest = union_all(*(select(newest.c) for newest in (
        select(Event.seq, Event.kind, Event.at, Event.ticket_id, Event.counter_id)
        .where(Event.office_id == bindparam("office_id"), Event.kind == kind, Event.at >= bindparam("start"))
        .order_by(Event.at.desc(), Event.seq.desc()).limit(RECENT_CALLS).subquery()
        for kind in ("called", "recalled")))).subquery()
    return (select(latest.c.seq, latest.c.kind, latest.c.at, Ticket.code, Ticket.lang, Counter.slug, Counter.name,
                   Ticket.service_id)
            .join(Ticket, Ticket.id == latest.c.ticket_id).join(Counter, Counter.id == latest.c.counter_id)
            .where(Ticket.service_day == bindparam("today"))
            .order_by(latest.c.seq.desc()).limit(RECENT_CALLS))


_RECENT_CALLS = _recent_calls_statement()


def recent_calls(session: Session, office: Office, now) -> list[dict]:
    """Today's latest calls from the event log, newest first.

    Each kind is read newest first from ix_events_office_kind_at, from the day's start and at most RECENT_CALLS
    of it, so the cost does not grow with the day: reading every call of the office and sorting them took a
    display refresh 2,000 rows at the end of a busy day (PostgreSQL spent more than a core on it in bench.day).
    """
    tz = ZoneInfo(office.timezone)
    today = service_day(now, tz)
    start, _ = day_bounds(today, today, tz)
    rows = session.execute(_RECENT_CALLS, {"office_id": office.id, "start": start, "today": today}).all()
    slugs = {s.id: s.slug for s in office.services}
    return [{"seq": r.seq, "code": r.code, "counter": r.slug, "counter_name": r.name,
             "service": slugs.get(r.service_id), "recall": r.kind == "recalled", "lang": r.lang, "at": iso(r.at)}
            for r in rows]


def display_state(session: Session, office: Office, now, base_url: str = "") -> dict:
    return {"seq": office.seq, "office": office_brief(office), "calls": recent_calls(session, office, now),
            "waiting": waiting_counts(session, office, now)}


def kiosk_state(session: Session, office: Office, now, base_url: str = "") -> dict:
    return {"seq": office.seq, "office": office_brief(office) | {"issuing": office.issuing,
                                                                 "languages": list(office.languages or [])},
            "services": [service_view(session, s, now) for s in office.services if s.active]}


def counter_state(session: Session, office: Office, now, base_url: str = "") -> dict:
    """Counters each with `next`: the waiting ticket ids in the order that counter would call them."""
    waiting = waiting_candidates(session, office.id)
    policy = Policy.from_dict(office.policy)

    def calling_order(c: Counter) -> list[int]:
        levels = CounterServices(c.id, {link.service_id: link.level for link in c.links})
        return [t.id for t in rank(waiting, levels, now, policy)]

    return {"seq": office.seq, "office": office_brief(office),
            "counters": [counter_view(c) | {"next": calling_order(c)} for c in office.counters],
            "services": [{"slug": s.slug, "name": s.names, "prefix": s.prefix, "target_wait": s.target_wait_minutes}
                         for s in office.services if s.active],
            "queue": office_queue_in(session, office, now, base_url),
            "printers": printers_state(session, office)}


def status_state(session: Session, office: Office, token: str, now, base_url: str = "") -> dict | None:
    status = ticket_status_in(session, token, now, base_url)
    return None if status is None else {"seq": office.seq, "ticket": status}


def supervisor_state(session: Session, office: Office, now, base_url: str = "") -> dict:
    """The live dashboard: services against their targets, counters with clerk and current ticket; whether the
    cut-off stops ticket issue or is a forecast only."""
    brief = office_brief(office) | {"stop_at_cutoff": stops_at_cutoff(office.policy)}
    return {"seq": office.seq, "office": brief} | supervisor_view(session, office, now)


BUILDERS = {"/display": display_state, "/kiosk": kiosk_state, "/counter": counter_state,
            "/supervisor": supervisor_state}


REUSE_SECONDS = 2.0  # how long a snapshot built once serves the connections that follow (same office seq)
REUSED = frozenset({"/display"})  # the namespaces with many clients per office


class RecentSnapshots:
    """The state last built per namespace and office (for REUSED namespaces), with the office's seq it shows.

    When many screens connect at once (a process restarted and its displays came over, the office's network
    came back), each would build the same snapshot: the office, its queue, an estimate per service and the last
    calls. A connection within REUSE_SECONDS of the last build (its own, or the state pushed after a change),
    while the office's seq is unchanged, gets that one instead. Every change to an office (a ticket, a call, a
    counter opened, a service renamed) records an event and so moves the seq; what moves with time alone (the
    estimates) is at most REUSE_SECONDS old.
    """

    def __init__(self, clock=time.monotonic, reuse_seconds: float = REUSE_SECONDS):
        self.clock, self.reuse_seconds = clock, reuse_seconds
        self._last: dict[tuple[str, str], tuple[int, float, dict]] = {}

    def get(self, namespace: str, office_slug: str, seq: int) -> dict | None:
        last = self._last.get((namespace, office_slug))
        if last is None or last[0] != seq or self.clock() - last[1] > self.reuse_seconds:
            return None
        return last[2]

    def put(self, namespace: str, office_slug: str, seq: int, state: dict) -> None:
        if namespace in REUSED:
            self._last[(namespace, office_slug)] = (seq, self.clock(), state)


def recent_snapshots(app) -> RecentSnapshots:
    """The app's own (each app has its database, so its own seqs)."""
    return app.extensions.setdefault("civicqueue_recent_snapshots", RecentSnapshots())

"""Read models: tickets, services and counters as the API and the realtime layer show them."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, func, select, union_all
from sqlalchemy.orm import Session

from server.db.models import Counter, CounterService, DailySequence, Office, Service, Ticket
from server.queue.numbering import service_day
from server.queue.policy import Candidate, Policy

from . import estimates


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


_CANDIDATE_COLUMNS = (Ticket.id, Ticket.service_id, Ticket.created_at, Ticket.enqueued_at, Ticket.priority_class,
                      Ticket.target_counter_id, Service.target_wait_minutes)


def _candidates(session: Session, query, params: dict | None = None) -> list[Candidate]:
    """Candidates from rows of _CANDIDATE_COLUMNS; a ticket found twice (e.g. in two heads) counts once."""
    found = {}
    for r in session.execute(query, params or {}):
        found[r.id] = Candidate(
            id=r.id, service_id=r.service_id, created_at=r.created_at, enqueued_at=r.enqueued_at,
            priority_class=r.priority_class, counter_id=r.target_counter_id,
            target_wait=timedelta(minutes=r.target_wait_minutes) if r.target_wait_minutes else None)
    return list(found.values())


def _waiting(office_id):
    return (select(*_CANDIDATE_COLUMNS).join(Service, Service.id == Ticket.service_id)
            .where(Ticket.office_id == office_id, Ticket.state == "waiting"))


def waiting_candidates(session: Session, office_id: int, *, service_ids=None, counter_id=None) -> list[Candidate]:
    """All waiting tickets of an office (or of some services, plus those transferred to one counter)."""
    query = _waiting(office_id)
    if service_ids is not None:
        in_services = Ticket.service_id.in_(list(service_ids)) & Ticket.target_counter_id.is_(None)
        query = query.where(in_services | (Ticket.target_counter_id == counter_id) if counter_id else in_services)
    return _candidates(session, query)


def _head(where, order, limit) -> Select:
    q = _waiting(bindparam("office_id")).where(where).order_by(*order)
    return select(*(q.limit(limit) if limit is not None else q).subquery().c)


@functools.cache
def _heads_statement(n_services: int):
    """For n services: the first tickets of each queue in calling order and by age, read in index order, and
    every ticket transferred to the counter (a short queue whose services, and so whose target waits, differ:
    its most overdue ticket need not be its oldest).

    One UNION ALL of small LIMIT queries (SQLite allows LIMIT only inside subqueries), built once per n.
    """
    limit = bindparam("limit")
    fifo = (Ticket.priority_class.desc(), Ticket.enqueued_at, Ticket.id)
    age = (Ticket.created_at, Ticket.id)
    parts = [_head(Ticket.target_counter_id == bindparam("counter_id"), fifo, None)]
    for i in range(n_services):
        mine = (Ticket.service_id == bindparam(f"s{i}")) & Ticket.target_counter_id.is_(None)
        parts += [_head(mine, fifo, limit), _head(mine, age, limit)]
    return union_all(*parts)


def front_candidates(session: Session, office_id: int, service_ids, counter_id: int, limit: int) -> list[Candidate]:
    """The heads of a counter's queues: enough to hold the policy's pick without loading every ticket.

    Per service queue the first `limit` by (class, queue time) and the `limit` oldest, and the tickets transferred
    to this counter. The policy's winner is always among them: within one service's queue, overdue order is age
    order and normal order is FIFO order.
    """
    service_ids = list(service_ids)
    params = {"office_id": office_id, "counter_id": counter_id, "limit": limit}
    params |= {f"s{i}": sid for i, sid in enumerate(service_ids)}
    return _candidates(session, _heads_statement(len(service_ids)), params)


# Statements of every kiosk and dashboard refresh, built once and bound per call (building one per call cost
# more CPU than running it).
_OPEN_COUNTERS = (select(func.count()).select_from(CounterService)
                  .join(Counter, Counter.id == CounterService.counter_id)
                  .where(CounterService.service_id == bindparam("service_id"), Counter.state == "open"))
_QUEUED = select(func.count()).select_from(Ticket).where(
    Ticket.service_id == bindparam("service_id"), Ticket.state == "waiting", Ticket.target_counter_id.is_(None))
_ISSUED_TODAY = select(DailySequence.last_seq).where(
    DailySequence.service_id == bindparam("service_id"), DailySequence.service_day == bindparam("day"))


def open_counters_for(session: Session, service_id: int) -> int:
    return session.scalar(_OPEN_COUNTERS, {"service_id": service_id})


def count_ahead(session: Session, t: Ticket, now: datetime, policy: Policy) -> int:
    """How many waiting tickets of this ticket's queue would be called first, counted in SQL.

    The same order as server.queue.policy.people_ahead (a test checks they agree): overdue tickets
    by age first, then priority class, then queue time.
    """
    params = {"office_id": t.office_id, "id": t.id, "service_id": t.service_id,
              "target_counter_id": t.target_counter_id, "priority_class": t.priority_class,
              "enqueued_at": t.enqueued_at, "created_at": t.created_at}
    targeted = t.target_counter_id is not None
    target = t.service.target_wait_minutes
    if not (policy.overdue_first and target) or targeted:
        return session.scalar(_ahead_statement(targeted, "fifo"), params)
    params["deadline"] = deadline = now - timedelta(minutes=target)
    if t.created_at < deadline:  # this ticket is overdue: only older overdue tickets are ahead
        return session.scalar(_ahead_statement(targeted, "older_overdue"), params)
    return session.scalar(_ahead_statement(targeted, "overdue_or_fifo"), params)


@functools.cache
def _ahead_statement(targeted: bool, rule: str) -> Select:
    """count_ahead's count for one queue kind (transferred to a counter, or a service's) and rule; built once."""
    same_queue = (Ticket.target_counter_id == bindparam("target_counter_id")) if targeted else (
        (Ticket.service_id == bindparam("service_id")) & Ticket.target_counter_id.is_(None))
    others = select(func.count()).select_from(Ticket).where(
        Ticket.office_id == bindparam("office_id"), Ticket.state == "waiting", Ticket.id != bindparam("id"),
        same_queue)
    before_in_fifo = (Ticket.priority_class > bindparam("priority_class")) | (
        (Ticket.priority_class == bindparam("priority_class"))
        & ((Ticket.enqueued_at < bindparam("enqueued_at"))
           | ((Ticket.enqueued_at == bindparam("enqueued_at")) & (Ticket.id < bindparam("id")))))
    overdue = Ticket.created_at < bindparam("deadline")
    older = (Ticket.created_at < bindparam("created_at")) | (
        (Ticket.created_at == bindparam("created_at")) & (Ticket.id < bindparam("id")))
    rules = {"fifo": before_in_fifo, "older_overdue": overdue & older, "overdue_or_fifo": overdue | before_in_fifo}
    return others.where(rules[rule])


def ticket_view(session: Session, t: Ticket, now: datetime, base_url: str = "", *,
                ahead: int | None = None, open_counters: int | None = None) -> dict:
    """A ticket as JSON, with position and estimate while it waits (pass `ahead` when already known).

    `open_counters` is no longer needed (the estimate reads the open counters itself); kept for callers.
    """
    position = estimate = None
    if t.state == "waiting":
        if ahead is None:
            ahead = count_ahead(session, t, now, Policy.from_dict(t.office.policy))
        position = ahead + 1
        estimate = estimates.estimate_for(session, t.office_id, t.service_id, ahead, now, t.created_at).as_dict()
    return {
        "id": t.id,
        "code": t.code,
        "office": t.office.slug,
        "service": t.service.slug,
        "service_name": t.service.name_in(t.lang or t.office.language, t.office.language),
        "state": t.state,
        "counter": t.counter.slug if t.counter else None,
        "counter_name": t.counter.name if t.counter else None,
        "target_counter": t.target_counter.slug if t.target_counter else None,
        "lang": t.lang,
        "call_count": t.call_count,
        "priority_class": t.priority_class,
        "created_at": iso(t.created_at),
        "called_at": iso(t.called_at),
        "started_at": iso(t.started_at),
        "finished_at": iso(t.finished_at),
        "position": position,
        "people_ahead": None if position is None else position - 1,
        "estimate": estimate,
        "status_url": f"{base_url}/t/{t.public_token}",
    }


def issued_today(session: Session, s: Service, now: datetime) -> int:
    """Tickets drawn today for this service: the day's sequence (a refused ticket rolls its number back)."""
    day = service_day(now, ZoneInfo(s.office.timezone))
    return session.scalar(_ISSUED_TODAY, {"service_id": s.id, "day": day}) or 0


def closed_reason(office_issuing: bool, service_open: bool, daily_cap: int | None, issued: int,
                  past_cutoff: bool = False) -> str | None:
    """Why no ticket can be drawn for a service now (the error code issuing gives), or None.

    The one rule for the kiosk's greyed-out buttons and for issuing itself. `past_cutoff`: the office stops
    issuing at the cut-off (policy "stop_at_cutoff") and a ticket drawn now would not be served before closing.
    """
    if not office_issuing:
        return "office_closed"
    if not service_open:
        return "service_closed"
    if daily_cap is not None and issued >= daily_cap:
        return "daily_cap_reached"
    if past_cutoff:
        return "cutoff"
    return None


def stops_at_cutoff(policy: dict | None) -> bool:
    """The office's switch: refuse tickets after the cut-off forecast (a key of office.policy, default off)."""
    return bool((policy or {}).get("stop_at_cutoff", False))


def service_view(session: Session, s: Service, now: datetime, lang: str | None = None) -> dict:
    """A service with its live waiting count and the estimate for a ticket drawn now."""
    waiting = session.scalar(_QUEUED, {"service_id": s.id})
    open_counters = open_counters_for(session, s.id)
    office: Office = s.office
    issued = issued_today(session, s, now)
    estimate = estimates.estimate_for(session, office.id, s.id, waiting, now)
    cutoff = estimates.cutoff_for(session, office, s.id, waiting, now, estimate)
    past_cutoff = stops_at_cutoff(office.policy) and cutoff is not None and now > cutoff
    reason = closed_reason(office.issuing, s.active and s.issuing, s.daily_cap, issued, past_cutoff)
    return {
        "slug": s.slug,
        "name": s.name_in(lang or office.language, office.language),
        "names": s.names,
        "prefix": s.prefix,
        "range": [s.range_start, s.range_end],
        "daily_cap": s.daily_cap,
        "target_wait": s.target_wait_minutes,
        "service_minutes": s.service_minutes,
        "active": s.active,
        "pictogram": s.pictogram,
        "sort_order": s.sort_order,
        "issuing": reason is None,
        "closed_reason": reason,
        "issued_today": issued,
        "waiting": waiting,
        "open_counters": open_counters,
        "estimate": estimate.as_dict(),
        "cutoff": iso(cutoff),
    }


def counter_view(c: Counter) -> dict:
    return {
        "slug": c.slug,
        "name": c.name,
        "state": c.state,
        "services": [link.service.slug for link in c.links],
    }


def office_view(o: Office) -> dict:
    return {"slug": o.slug, "name": o.name, "timezone": o.timezone, "language": o.language,
            "issuing": o.issuing, "seq": o.seq}

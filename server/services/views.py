"""Read models: tickets, services and counters as the API and the realtime layer show them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Counter, CounterService, Office, Service, Ticket
from server.queue.estimate import estimate_wait
from server.queue.policy import Candidate, Policy, people_ahead


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def candidate(t: Ticket, target_wait_minutes: int | None) -> Candidate:
    return Candidate(
        id=t.id, service_id=t.service_id, created_at=t.created_at, enqueued_at=t.enqueued_at,
        priority_class=t.priority_class, counter_id=t.target_counter_id,
        target_wait=timedelta(minutes=target_wait_minutes) if target_wait_minutes else None,
    )


def waiting_candidates(session: Session, office_id: int, *, service_ids=None, counter_id=None) -> list[Candidate]:
    """The waiting tickets of an office (or of some services / transferred to one counter)."""
    query = (
        select(Ticket.id, Ticket.service_id, Ticket.created_at, Ticket.enqueued_at, Ticket.priority_class,
               Ticket.target_counter_id, Service.target_wait_minutes)
        .join(Service, Service.id == Ticket.service_id)
        .where(Ticket.office_id == office_id, Ticket.state == "waiting")
    )
    if service_ids is not None:
        in_services = Ticket.service_id.in_(list(service_ids)) & Ticket.target_counter_id.is_(None)
        query = query.where(in_services | (Ticket.target_counter_id == counter_id) if counter_id else in_services)
    return [
        Candidate(id=r.id, service_id=r.service_id, created_at=r.created_at, enqueued_at=r.enqueued_at,
                  priority_class=r.priority_class, counter_id=r.target_counter_id,
                  target_wait=timedelta(minutes=r.target_wait_minutes) if r.target_wait_minutes else None)
        for r in session.execute(query)
    ]


def open_counters_for(session: Session, service_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(CounterService).join(Counter, Counter.id == CounterService.counter_id)
        .where(CounterService.service_id == service_id, Counter.state == "open")
    )


def ticket_view(session: Session, t: Ticket, now: datetime, base_url: str = "", *,
                ahead: int | None = None, open_counters: int | None = None) -> dict:
    """A ticket as JSON, with position and estimate while it waits (pass `ahead` when already known)."""
    position = estimate = None
    if t.state == "waiting":
        service = t.service
        if ahead is None:
            waiting = waiting_candidates(session, t.office_id, service_ids=[t.service_id],
                                         counter_id=t.target_counter_id)
            ahead = people_ahead(candidate(t, service.target_wait_minutes), waiting, now,
                                 Policy.from_dict(t.office.policy))
        if open_counters is None:
            open_counters = open_counters_for(session, t.service_id)
        position = ahead + 1
        estimate = estimate_wait(ahead, service.service_minutes, open_counters).as_dict()
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


def service_view(session: Session, s: Service, lang: str | None = None) -> dict:
    """A service with its live waiting count and the estimate for a ticket drawn now."""
    waiting = session.scalar(
        select(func.count()).select_from(Ticket)
        .where(Ticket.service_id == s.id, Ticket.state == "waiting", Ticket.target_counter_id.is_(None))
    )
    open_counters = open_counters_for(session, s.id)
    office: Office = s.office
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
        "issuing": s.active and s.issuing and office.issuing,
        "waiting": waiting,
        "open_counters": open_counters,
        "estimate": estimate_wait(waiting, s.service_minutes, open_counters).as_dict(),
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

"""Finding offices, services, counters and tickets by their public keys, with scope checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from server.db.models import Counter, CounterService, Office, Service, Ticket, name_in

from .errors import Forbidden, NotFound
from .uow import Actor

# The lookups of nearly every request, built once and bound per call: building a statement cost more CPU than
# running it (78 us for the office's, 630 us for a ticket's with its three joinedloads, measured).
_OFFICE = select(Office).where(Office.slug == bindparam("slug"))
_SERVICE = select(Service).where(Service.office_id == bindparam("office_id"), Service.slug == bindparam("slug"))
_COUNTER = select(Counter).where(Counter.office_id == bindparam("office_id"), Counter.slug == bindparam("slug"))
# One more query now instead of one per service later.
_COUNTER_WITH_SERVICES = _COUNTER.options(selectinload(Counter.links).joinedload(CounterService.service))


def office_named(session: Session, slug: str) -> Office | None:
    return session.scalars(_OFFICE, {"slug": slug}).one_or_none()


def office_by_slug(session: Session, slug: str, actor: Actor | None = None) -> Office:
    office = office_named(session, slug)
    if office is None:
        raise NotFound("office", slug)
    if actor is not None:
        require_office(actor, office)
    return office


def require_office(actor: Actor, office: Office) -> None:
    if not actor.covers(office.id):
        raise Forbidden(f"your account is not allowed to act for office '{office.slug}'", "wrong_office")


def service_by_slug(session: Session, office: Office, slug: str) -> Service:
    service = session.scalars(_SERVICE, {"office_id": office.id, "slug": slug}).one_or_none()
    if service is None:
        raise NotFound("service", slug)
    return service


def office_and_service(session: Session, office_slug: str, service_slug: str, actor: Actor) -> tuple[Office, Service]:
    """Both in one query on the hot path of issuing; the slower lookups name what is missing."""
    service = session.scalars(
        select(Service).join(Office).options(contains_eager(Service.office))
        .where(Office.slug == office_slug, Service.slug == service_slug)
    ).one_or_none()
    if service is None:
        office = office_by_slug(session, office_slug, actor)
        return office, service_by_slug(session, office, service_slug)
    require_office(actor, service.office)
    return service.office, service


def counter_by_slug(session: Session, office: Office, slug: str, *, with_services: bool = False) -> Counter:
    query = _COUNTER_WITH_SERVICES if with_services else _COUNTER
    counter = session.scalars(query, {"office_id": office.id, "slug": slug}).one_or_none()
    if counter is None:
        raise NotFound("counter", slug)
    return counter


@dataclass(frozen=True)
class ServiceRef:
    id: int
    slug: str
    names: dict[str, str]

    def name_in(self, lang: str, fallback: str = "de") -> str:
        return name_in(self.names, self.slug, lang, fallback)


@dataclass(frozen=True)
class LinkRef:
    service_id: int
    level: int
    service: ServiceRef


@dataclass(frozen=True)
class CounterRef:
    id: int
    slug: str
    name: str
    state: str
    links: tuple[LinkRef, ...]


@dataclass(frozen=True)
class OfficeRef:
    id: int
    slug: str
    language: str
    policy: dict[str, Any]


_CALLING = (
    select(Office.id.label("office_id"), Office.slug.label("office_slug"), Office.language, Office.policy,
           Counter.id.label("counter_id"), Counter.slug.label("counter_slug"), Counter.name.label("counter_name"),
           Counter.state, CounterService.service_id, CounterService.level, Service.slug.label("service_slug"),
           Service.names)
    .join(Counter, Counter.office_id == Office.id)
    .outerjoin(CounterService, CounterService.counter_id == Counter.id)
    .outerjoin(Service, Service.id == CounterService.service_id)
    .where(Office.slug == bindparam("office"), Counter.slug == bindparam("counter"))
)


def calling_counter(session: Session, office_slug: str, counter_slug: str,
                    actor: Actor) -> tuple[OfficeRef, CounterRef]:
    """An office and its counter with the counter's services, in one query of plain rows (call-next's hot path:
    loading them as ORM objects with their links took more CPU than picking and claiming the ticket)."""
    rows = session.connection().execute(_CALLING, {"office": office_slug, "counter": counter_slug}).all()
    if not rows:  # the slower lookups name what is missing
        counter_by_slug(session, office_by_slug(session, office_slug, actor), counter_slug)
        raise NotFound("counter", counter_slug)  # not reached: the lookups above raise
    first = rows[0]
    office = OfficeRef(first.office_id, first.office_slug, first.language, first.policy)
    require_office(actor, office)
    links = tuple(LinkRef(r.service_id, r.level, ServiceRef(r.service_id, r.service_slug, r.names))
                  for r in rows if r.service_id is not None)
    return office, CounterRef(first.counter_id, first.counter_slug, first.counter_name, first.state, links)


_TICKET = select(Ticket).where(Ticket.id == bindparam("ticket_id")).options(
    joinedload(Ticket.office), joinedload(Ticket.service), joinedload(Ticket.counter))
_TICKET_LOCKED = _TICKET.with_for_update(of=Ticket)


def ticket_by_id(session: Session, ticket_id: int, actor: Actor | None = None, *, lock: bool = False) -> Ticket:
    """The ticket with its office, service and counter, which every view of it reads, in the same query (one
    lazy load each cost more than the ticket's own). `lock`: FOR UPDATE of the ticket's row alone."""
    ticket = session.scalars(_TICKET_LOCKED if lock else _TICKET, {"ticket_id": ticket_id}).one_or_none()
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    if actor is not None:
        require_office(actor, ticket.office)
    return ticket

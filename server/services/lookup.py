"""Finding offices, services, counters and tickets by their public keys, with scope checks."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, selectinload

from server.db.models import Counter, CounterService, Office, Service, Ticket

from .errors import Forbidden, NotFound
from .uow import Actor


def office_by_slug(session: Session, slug: str, actor: Actor | None = None) -> Office:
    office = session.scalars(select(Office).where(Office.slug == slug)).one_or_none()
    if office is None:
        raise NotFound("office", slug)
    if actor is not None:
        require_office(actor, office)
    return office


def require_office(actor: Actor, office: Office) -> None:
    if not actor.covers(office.id):
        raise Forbidden(f"your account is not allowed to act for office '{office.slug}'", "wrong_office")


def service_by_slug(session: Session, office: Office, slug: str) -> Service:
    service = session.scalars(
        select(Service).where(Service.office_id == office.id, Service.slug == slug)
    ).one_or_none()
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
    query = select(Counter).where(Counter.office_id == office.id, Counter.slug == slug)
    if with_services:  # one more query now instead of one per service later
        query = query.options(selectinload(Counter.links).joinedload(CounterService.service))
    counter = session.scalars(query).one_or_none()
    if counter is None:
        raise NotFound("counter", slug)
    return counter


def ticket_by_id(session: Session, ticket_id: int, actor: Actor | None = None, *, lock: bool = False) -> Ticket:
    query = select(Ticket).where(Ticket.id == ticket_id)
    if lock:
        query = query.with_for_update()
    ticket = session.scalars(query).one_or_none()
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    if actor is not None:
        require_office(actor, ticket.office)
    return ticket

"""Offices, services, counters and devices: created from the configured layout or by an admin."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import CounterConfig, OfficeConfig, ServiceConfig, Settings
from server.db.models import Counter, CounterService, Device, Office, Service

from .context import Context
from .errors import Conflict, Invalid
from .lookup import office_by_slug
from .uow import Actor
from .views import counter_view, service_view


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def import_layout(ctx: Context, settings: Settings) -> ImportReport:
    """Create what the configuration lists and the database lacks; never overwrite (the database rules)."""
    report = ImportReport()
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        for oc in settings.offices:
            office = session.scalars(select(Office).where(Office.slug == oc.slug)).one_or_none()
            if office is None:
                office = _new_office(session, oc)
                report.created.append(f"office {oc.slug}")
            else:
                report.kept.append(f"office {oc.slug}")
            for sc in oc.services:
                if not _has(session, Service, office, sc.slug):
                    _new_service(session, office, sc)
                    report.created.append(f"service {oc.slug}/{sc.slug}")
            session.flush()
            for cc in oc.counters:
                if not _has(session, Counter, office, cc.slug):
                    _new_counter(session, office, cc)
                    report.created.append(f"counter {oc.slug}/{cc.slug}")
            for dc in oc.devices:
                if session.scalars(select(Device).where(Device.office_id == office.id,
                                                        Device.name == dc.name)).first() is None:
                    printer = dc.printer.model_dump() if dc.printer else None
                    session.add(Device(office=office, kind=dc.kind, name=dc.name, created_at=now, printer=printer))
                    report.created.append(f"{dc.kind} {oc.slug}/{dc.name}")
    return report


def _has(session: Session, model, office: Office, slug: str) -> bool:
    return session.scalars(select(model.id).where(model.office_id == office.id, model.slug == slug)).first() is not None


def _new_office(session: Session, oc: OfficeConfig) -> Office:
    office = Office(slug=oc.slug, name=oc.name, timezone=oc.timezone, language=oc.language,
                    policy=oc.policy.model_dump(), issuing=True, seq=0)
    session.add(office)
    session.flush()
    return office


def _new_service(session: Session, office: Office, sc: ServiceConfig) -> Service:
    order = len(session.scalars(select(Service.id).where(Service.office_id == office.id)).all())
    service = Service(office=office, slug=sc.slug, names=dict(sc.name), prefix=sc.prefix,
                      range_start=sc.range[0], range_end=sc.range[1], daily_cap=sc.daily_cap,
                      target_wait_minutes=sc.target_wait, service_minutes=sc.service_minutes,
                      active=True, issuing=True, sort_order=order, pictogram=sc.pictogram)
    session.add(service)
    return service


def _new_counter(session: Session, office: Office, cc: CounterConfig) -> Counter:
    order = len(session.scalars(select(Counter.id).where(Counter.office_id == office.id)).all())
    counter = Counter(office=office, slug=cc.slug, name=cc.name, state="closed", sort_order=order)
    session.add(counter)
    for level, slug in enumerate(cc.services):
        service = session.scalars(select(Service).where(Service.office_id == office.id,
                                                        Service.slug == slug)).one_or_none()
        if service is None:
            raise Invalid(f"unknown service '{slug}'", "unknown_service")
        counter.links.append(CounterService(service=service, level=level))
    return counter


def create_service(ctx: Context, actor: Actor, office_slug: str, sc: ServiceConfig) -> dict:
    """Add a service to an office (admin)."""
    with ctx.uow() as uow:
        session = uow.session
        office = office_by_slug(session, office_slug, actor)
        if _has(session, Service, office, sc.slug):
            raise Conflict(f"office '{office.slug}' already has a service '{sc.slug}'", "already_exists")
        for other in office.services:
            if other.prefix == sc.prefix and other.range_start <= sc.range[1] and sc.range[0] <= other.range_end:
                raise Conflict(f"service '{other.slug}' already uses prefix '{sc.prefix}' with an overlapping "
                               "number range; choose another prefix or range", "code_clash")
        service = _new_service(session, office, sc)
        session.flush()
        uow.record(office, "service_created", ctx.clock(), actor, service_id=service.id,
                   details={"slug": sc.slug}, data={"service": sc.slug})
        return service_view(session, service, ctx.clock())


def create_counter(ctx: Context, actor: Actor, office_slug: str, cc: CounterConfig) -> dict:
    """Add a counter to an office (admin); its services are listed in the order it serves them."""
    with ctx.uow() as uow:
        session = uow.session
        office = office_by_slug(session, office_slug, actor)
        if _has(session, Counter, office, cc.slug):
            raise Conflict(f"office '{office.slug}' already has a counter '{cc.slug}'", "already_exists")
        if len(set(cc.services)) != len(cc.services):
            raise Invalid("a service appears twice in 'services'", "invalid_services")
        counter = _new_counter(session, office, cc)
        session.flush()
        uow.record(office, "counter_created", ctx.clock(), actor, counter_id=counter.id,
                   details={"slug": cc.slug}, data={"counter": counter_view(counter)})
        return counter_view(counter)

"""Issue a ticket: idempotent by request_id, numbered gap-free per service and service day."""

from __future__ import annotations

import secrets
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db.models import DailySequence, Office, Service, Ticket
from server.queue import ACTIVE_STATES, DailyCapReached, NumberRangeExhausted
from server.queue.numbering import NumberRange, format_code, number_for, service_day

from .context import Context
from .errors import Conflict, Invalid
from .lookup import office_and_service, office_by_slug, service_by_slug
from .uow import Actor
from .views import ticket_view

ISSUERS = {"kiosk", "clerk", "supervisor", "admin", "agent"}


def issue_ticket(ctx: Context, actor: Actor, office_slug: str, service_slug: str, *,
                 lang: str | None = None, request_id: str | None = None,
                 priority_class: int = 0) -> tuple[dict, bool]:
    """Issue a ticket; return (ticket view, created). A known request_id returns its ticket again.

    The insert is tried first: the unique (office, request_id) constraint catches a retry, whose
    transaction then rolls back (giving its number back) and the stored ticket is returned.
    """
    try:
        return _issue(ctx, actor, office_slug, service_slug, lang, request_id, priority_class), True
    except IntegrityError:
        existing = request_id and _by_request_id(ctx, actor, office_slug, request_id)
        if existing:
            return existing, False
        raise
    except (DailyCapReached, NumberRangeExhausted, Conflict) as exc:
        # A retry of a ticket issued just before the cap or closing still gets its ticket.
        existing = request_id and _by_request_id(ctx, actor, office_slug, request_id)
        if existing:
            return existing, False
        _record_refusal(ctx, actor, office_slug, service_slug, exc)
        raise


def _by_request_id(ctx: Context, actor: Actor, office_slug: str, request_id: str) -> dict | None:
    with ctx.db.read_session() as session:
        office = office_by_slug(session, office_slug, actor)
        t = session.scalars(
            select(Ticket).where(Ticket.office_id == office.id, Ticket.request_id == request_id)
        ).one_or_none()
        return ticket_view(session, t, ctx.clock(), ctx.base_url) if t else None


def _issue(ctx, actor, office_slug, service_slug, lang, request_id, priority_class) -> dict:
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        office, service = office_and_service(session, office_slug, service_slug, actor)
        _check_open(office, service)
        day = service_day(now, ZoneInfo(office.timezone))
        rng = NumberRange(service.range_start, service.range_end)
        num = number_for(_next_seq(session, service.id, day), rng, service.daily_cap)
        code = format_code(service.prefix, num.number, rng)
        if num.cycle and _code_in_use(session, office.id, day, code):
            raise NumberRangeExhausted(f"every number of '{service.slug}' is held by a ticket still in the queue")
        t = Ticket(
            public_token=secrets.token_urlsafe(16), office=office, service=service, issued_service_id=service.id,
            service_day=day,
            seq=num.seq, number=num.number, cycle=num.cycle, code=code, state="waiting", lang=lang,
            request_id=request_id, priority_class=priority_class, created_at=now, enqueued_at=now,
        )
        session.add(t)
        session.flush()
        view = ticket_view(session, t, now, ctx.base_url)
        uow.record(office, "issued", now, actor, ticket_id=t.id, service_id=service.id,
                   details={"code": code, "lang": lang}, data={"ticket": view})
        return view


def _check_open(office: Office, service: Service) -> None:
    if not office.issuing:
        raise Conflict(f"{office.name} issues no more tickets today", "office_closed")
    if not service.active or not service.issuing:
        raise Conflict(f"no more tickets today for '{service.slug}'", "service_closed")


def _next_seq(session: Session, service_id: int, day) -> int:
    """Take the next number of the day in one atomic upsert (a row lock serialises concurrent kiosks)."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(DailySequence).values(service_id=service_id, service_day=day, last_seq=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["service_id", "service_day"], set_={"last_seq": DailySequence.last_seq + 1}
    ).returning(DailySequence.last_seq)
    return session.execute(stmt).scalar_one()


def _code_in_use(session: Session, office_id: int, day, code: str) -> bool:
    return session.scalar(
        select(Ticket.id).where(Ticket.office_id == office_id, Ticket.service_day == day, Ticket.code == code,
                                Ticket.state.in_([s.value for s in ACTIVE_STATES])).limit(1)
    ) is not None


def _record_refusal(ctx: Context, actor: Actor, office_slug: str, service_slug: str, exc: Exception) -> None:
    """A refused ticket is a fact for the statistics, so log it in its own transaction."""
    reason = getattr(exc, "code", "refused")
    with ctx.uow() as uow:
        office = office_by_slug(uow.session, office_slug)
        service = service_by_slug(uow.session, office, service_slug)
        uow.record(office, "refused", ctx.clock(), actor, service_id=service.id, details={"reason": reason},
                   data={"service": service.slug, "reason": reason})


def validate_lang(lang: str | None, languages: list[str]) -> str | None:
    if lang is not None and lang not in languages:
        raise Invalid(f"unknown language '{lang}' (known: {', '.join(languages)})", "invalid_lang")
    return lang

"""Issue a ticket: idempotent by request_id, numbered gap-free per service and service day."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db.models import DailySequence, Device, Office, Service, Ticket
from server.queue import ACTIVE_STATES, DailyCapReached, NumberRangeExhausted
from server.queue.numbering import NumberRange, format_code, number_for, service_day

from . import estimates, print_reads, printing
from .context import Context
from .errors import Conflict, Invalid
from .lookup import OfficeRef, office_and_service, office_by_slug, require_office, service_by_slug
from .uow import Actor
from .views import closed_reason, iso, stops_at_cutoff, ticket_view


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
        if t is None:
            return None
        return ticket_view(session, t, ctx.clock(), ctx.base_url) | {"print": print_reads.latest_job_in(session, t.id)}


def _issue(ctx, actor, office_slug, service_slug, lang, request_id, priority_class) -> dict:
    """The hot path of every kiosk tap, in SQLAlchemy Core: six or seven statements, no ORM objects."""
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        conn = session.connection()
        keys = {"office": office_slug, "service": service_slug, "device": actor.device_id}
        row = conn.execute(_OFFICE_AND_SERVICE, keys).one_or_none()
        if row is None:
            office, service = office_and_service(session, office_slug, service_slug, actor)  # names what is missing
            row = conn.execute(_OFFICE_AND_SERVICE, keys | {"office": office.slug, "service": service.slug}).one()
        if not actor.covers(row.office_id):
            require_office(actor, session.get(Office, row.office_id))
        _check_open(row)
        # Read before taking the number: on PostgreSQL the number's row lock is then held for as few
        # round trips as possible (the count is the queue as it stands; this ticket is not in it yet).
        ahead = conn.execute(_AHEAD_OF_NEW, {"service_id": row.service_id, "cls": priority_class}).scalar_one()
        estimate = estimates.estimate_for(session, row.office_id, row.service_id, ahead, now)
        if stops_at_cutoff(row.policy):
            _check_cutoff(session, row, ahead, now, estimate)
        day = service_day(now, ZoneInfo(row.timezone))
        rng = NumberRange(row.range_start, row.range_end)
        num = number_for(_next_seq(conn, row.service_id, day), rng, row.daily_cap)
        code = format_code(row.prefix, num.number, rng)
        if num.cycle and _code_in_use(session, row.office_id, day, code):
            raise NumberRangeExhausted(f"every number of '{service_slug}' is held by a ticket still in the queue")
        token = secrets.token_urlsafe(16)
        ticket_id = conn.execute(_INSERT_TICKET, dict(
            public_token=token, office_id=row.office_id, service_id=row.service_id,
            issued_service_id=row.service_id, service_day=day, seq=num.seq, number=num.number, cycle=num.cycle,
            code=code, state="waiting", lang=lang, request_id=request_id, priority_class=priority_class,
            call_count=0, created_at=now, enqueued_at=now)).scalar_one()
        view = new_ticket_view(row, ticket_id, code, token, lang, priority_class, now, ahead, estimate.as_dict(),
                               ctx.base_url)
        view["print"] = _print_job(conn, actor, row, view, now)
        office = OfficeRef(row.office_id, row.office_slug, row.language, row.policy)
        uow.record(office, "issued", now, actor, ticket_id=ticket_id, service_id=row.service_id,
                   details={"code": code, "lang": lang}, data={"ticket": view})
        return view


_OFFICE_AND_SERVICE = (
    select(Office.id.label("office_id"), Office.slug.label("office_slug"), Office.name.label("office_name"),
           Office.timezone, Office.language, Office.issuing.label("office_issuing"), Office.policy,
           Office.opening_hours,
           Service.id.label("service_id"), Service.slug.label("service_slug"), Service.names, Service.prefix,
           Service.range_start, Service.range_end, Service.daily_cap, Service.service_minutes, Service.active,
           Service.issuing.label("service_issuing"),
           # The issuing kiosk's printer, in the same round trip (NULL for everyone else).
           select(Device.name).where(Device.id == bindparam("device")).scalar_subquery().label("device_name"),
           select(Device.printer).where(Device.id == bindparam("device")).scalar_subquery().label("printer"))
    .join(Service, Service.office_id == Office.id)
    .where(Office.slug == bindparam("office"), Service.slug == bindparam("service"))
)

# The service implies the office; leaving office_id out lets the count read the index alone.
_waiting_here = (Ticket.state == "waiting") & (Ticket.service_id == bindparam("service_id")) & (
    Ticket.target_counter_id.is_(None))
# A new ticket is behind every waiting ticket of its service that has the same or a higher class
# (they were all enqueued earlier); see views.count_ahead for the general rule.
_AHEAD_OF_NEW = select(func.count()).select_from(Ticket).where(_waiting_here, Ticket.priority_class >= bindparam("cls"))

# Statements built once: building one per request (values(), on_conflict...) cost more CPU than running it.
_INSERT_TICKET = insert(Ticket).returning(Ticket.id)


def new_ticket_view(row, ticket_id: int, code: str, token: str, lang: str | None, priority_class: int, now,
                    ahead: int, estimate: dict, base_url: str) -> dict:
    """The same dict views.ticket_view builds, for a ticket just issued (no second read)."""
    names = row.names
    return {
        "id": ticket_id, "code": code, "office": row.office_slug, "service": row.service_slug,
        "service_name": names.get(lang or row.language) or names.get(row.language) or next(iter(names.values())),
        "state": "waiting", "counter": None, "counter_name": None, "target_counter": None, "lang": lang,
        "call_count": 0, "priority_class": priority_class, "created_at": iso(now), "called_at": None,
        "started_at": None, "finished_at": None, "position": ahead + 1, "people_ahead": ahead,
        "estimate": estimate,
        "status_url": f"{base_url}/t/{token}",
    }


def _print_job(conn, actor: Actor, row, view: dict, now) -> dict | None:
    """A kiosk with a printer gets a queued print job in the ticket's own transaction (printed after commit)."""
    if not row.printer or row.printer.get("backend", "none") == "none":
        return None
    device = (actor.device_id, row.device_name, row.printer)
    content = print_reads.content_of(
        office_name=row.office_name, names=row.names, office_language=row.language, timezone=row.timezone,
        lang=view["lang"], code=view["code"], created_at=view["created_at"], people_ahead=view["people_ahead"],
        estimate=view["estimate"], status_url=view["status_url"], paper=device[2].get("paper", 80))
    return printing.add_job(conn, office_id=row.office_id, office=row.office_slug, ticket_id=view["id"],
                            code=view["code"], device=device, content=content, actor=actor, now=now)


def _check_open(row) -> None:
    """Refuse a closed office or service; the daily cap is enforced by the numbering itself."""
    reason = closed_reason(row.office_issuing, row.active and row.service_issuing, None, 0)
    if reason == "office_closed":
        raise Conflict(f"{row.office_name} issues no more tickets today", reason)
    if reason == "service_closed":
        raise Conflict(f"no more tickets today for '{row.service_slug}'", reason)


def _check_cutoff(session: Session, row, ahead: int, now, estimate) -> None:
    """Refuse a ticket that would not be served before today's closing (the office's policy asks for it)."""
    office = OfficeHours(row.office_id, row.opening_hours, row.timezone)
    cutoff = estimates.cutoff_for(session, office, row.service_id, ahead, now, estimate)
    if cutoff is not None and now > cutoff:
        raise Conflict(f"no more tickets today for '{row.service_slug}': it would not be served before closing",
                       "cutoff")


@dataclass(frozen=True)
class OfficeHours:
    id: int
    opening_hours: dict
    timezone: str


def _upsert_seq(dialect):
    stmt = dialect.insert(DailySequence).values(service_id=bindparam("service_id"), service_day=bindparam("day"),
                                                last_seq=1)
    return stmt.on_conflict_do_update(
        index_elements=["service_id", "service_day"], set_={"last_seq": DailySequence.last_seq + 1}
    ).returning(DailySequence.last_seq)


_NEXT_SEQ = {"postgresql": _upsert_seq(postgresql), "sqlite": _upsert_seq(sqlite)}


def _next_seq(conn, service_id: int, day) -> int:
    """Take the next number of the day in one atomic upsert (a row lock serialises concurrent kiosks)."""
    return conn.execute(_NEXT_SEQ[conn.dialect.name], {"service_id": service_id, "day": day}).scalar_one()


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

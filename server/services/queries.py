"""Read-only use cases: they run in a deferred read transaction and never publish."""

from __future__ import annotations

from sqlalchemy import select

from server.db.models import Office, Ticket
from server.queue.policy import CounterServices, Policy, rank

from .context import Context
from .errors import NotFound
from .lookup import office_by_slug
from .uow import Actor
from .views import counter_view, office_view, open_counters_for, service_view, ticket_view, waiting_candidates


def list_offices(ctx: Context, actor: Actor) -> list[dict]:
    with ctx.db.read_session() as session:
        offices = session.scalars(select(Office).order_by(Office.name)).all()
        return [office_view(o) for o in offices if actor.covers(o.id)]


def list_services(ctx: Context, actor: Actor, office_slug: str, lang: str | None = None) -> list[dict]:
    with ctx.db.read_session() as session:
        office = office_by_slug(session, office_slug, actor)
        now = ctx.clock()
        return [service_view(session, s, now, lang) for s in office.services]


def list_counters(ctx: Context, actor: Actor, office_slug: str) -> list[dict]:
    with ctx.db.read_session() as session:
        office = office_by_slug(session, office_slug, actor)
        views = []
        for c in office.counters:
            current = session.scalars(
                select(Ticket).where(Ticket.counter_id == c.id, Ticket.state.in_(["called", "serving"]))
                .order_by(Ticket.id.desc()).limit(1)
            ).first()
            views.append(counter_view(c) | {"current": current.code if current else None})
        return views


def office_queue(ctx: Context, actor: Actor, office_slug: str) -> dict:
    """Waiting tickets in calling order (per queue), and the called, serving and parked ones."""
    with ctx.db.read_session() as session:
        return office_queue_in(session, office_by_slug(session, office_slug, actor), ctx.clock(), ctx.base_url)


def office_queue_in(session, office: Office, now, base_url: str = "") -> dict:
    """The office's queue, read in the caller's session."""
    tickets = {t.id: t for t in session.scalars(
        select(Ticket).where(Ticket.office_id == office.id,
                             Ticket.state.in_(["waiting", "called", "serving", "parked"])))}
    open_counters = {s.id: open_counters_for(session, s.id) for s in office.services}
    everyone = CounterServices(0, {s.id: 0 for s in office.services})
    waiting = waiting_candidates(session, office.id)
    ordered = rank([c for c in waiting if c.counter_id is None], everyone, now, Policy.from_dict(office.policy))
    ordered += sorted((c for c in waiting if c.counter_id is not None), key=lambda c: (c.enqueued_at, c.id))
    seen: dict = {}
    out: dict[str, list[dict]] = {"waiting": [], "called": [], "serving": [], "parked": []}
    for c in ordered:
        queue = ("counter", c.counter_id) if c.counter_id else ("service", c.service_id)
        ahead = seen[queue] = seen.get(queue, -1) + 1
        out["waiting"].append(ticket_view(session, tickets[c.id], now, base_url, ahead=ahead,
                                          open_counters=open_counters.get(c.service_id, 0)))
    for t in sorted(tickets.values(), key=lambda t: t.id):
        if t.state != "waiting":
            out[t.state].append(ticket_view(session, t, now, base_url))
    return out


def ticket_status(ctx: Context, public_token: str) -> dict:
    """What the citizen's phone shows: no personal data, just the ticket's progress."""
    with ctx.db.read_session() as session:
        status = ticket_status_in(session, public_token, ctx.clock(), ctx.base_url)
        if status is None:
            raise NotFound("ticket", public_token)
        return status


STATUS_FIELDS = ("code", "office", "service", "service_name", "state", "counter", "counter_name", "position",
                 "people_ahead", "estimate", "created_at", "called_at", "call_count", "lang")


def ticket_status_in(session, public_token: str, now, base_url: str = "") -> dict | None:
    t = session.scalars(select(Ticket).where(Ticket.public_token == public_token)).one_or_none()
    if t is None:
        return None
    view = ticket_view(session, t, now, base_url)
    return {k: view[k] for k in STATUS_FIELDS} | {"office_name": t.office.name}


def wait_times(ctx: Context) -> list[dict]:
    """Public live waiting times of every office."""
    with ctx.db.read_session() as session:
        out = []
        for office in session.scalars(select(Office).order_by(Office.name)):
            services = [service_view(session, s, ctx.clock()) for s in office.services if s.active]
            out.append({"office": office.slug, "name": office.name, "services": [
                {k: s[k] for k in ("slug", "name", "waiting", "open_counters", "estimate", "issuing")}
                for s in services]})
        return out

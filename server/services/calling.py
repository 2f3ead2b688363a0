"""Calling tickets to counters: call next, call a given ticket, and opening/pausing/closing counters."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import bindparam, func, select, update

from server.db.models import Counter, Office, Service, Ticket
from server.queue import Action, transition
from server.queue.policy import CounterServices, Policy, rank
from server.queue.states import COUNTER_STATE_EVENTS

from .context import Context
from .errors import Conflict
from .lookup import CounterRef, OfficeRef, calling_counter, counter_by_slug, office_by_slug, ticket_by_id
from .uow import Actor, UnitOfWork
from .views import counter_view, front_candidates, ticket_view, waiting_candidates


def call_next(ctx: Context, actor: Actor, office_slug: str, counter_slug: str) -> dict | None:
    """Call the ticket the policy picks for this counter; None when nothing waits. Opens the counter."""
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        office, counter = calling_counter(session, office_slug, counter_slug, actor)
        ticket = _pick_and_claim(session, office, counter, now)
        if counter.state != "open":  # a clerk who calls is working: a closed or paused counter opens
            _set_state(uow, office, session.get(Counter, counter.id), "open", actor, now)
        if ticket is None:
            return None
        view = _called_view(session, ctx, office, counter, ticket)
        uow.record(office, "called", now, actor, ticket_id=ticket.id, service_id=ticket.service_id,
                   counter_id=counter.id, details={"code": ticket.code, "call_count": ticket.call_count},
                   data={"ticket": view, "recall": False})
        return view


HEADS = 16  # candidates per queue head on PostgreSQL; more than the counters that usually race for one service


def _pick_and_claim(session, office: OfficeRef, counter: CounterRef, now):
    """Rank the heads of the counter's queues by the policy and claim the first one still free.

    Only if every head is taken by concurrent callers, rank the whole queue (same policy, more rows).
    Returns the claimed ticket's row (already called to this counter), or None.
    """
    services = CounterServices(counter.id, {link.service_id: link.level for link in counter.links})
    policy = Policy.from_dict(office.policy)
    # SQLite: this transaction holds the write lock since BEGIN, so the first head is never taken by someone else.
    limit = 1 if session.bind.dialect.name == "sqlite" else HEADS
    heads = front_candidates(session, office.id, services.levels, counter.id, limit)
    tried = set()
    for loader in (lambda: heads,
                   lambda: waiting_candidates(session, office.id, service_ids=services.levels, counter_id=counter.id)):
        for cand in rank(loader(), services, now, policy):
            if cand.id in tried:
                continue
            tried.add(cand.id)
            row = _claim(session, cand.id, counter.id, now)
            if row is not None:
                return row
        if len(heads) < limit:  # the heads were the whole queue
            return None
    return None


_CALLED_COLUMNS = (Ticket.id, Ticket.code, Ticket.service_id, Ticket.lang, Ticket.call_count, Ticket.priority_class,
                   Ticket.created_at, Ticket.called_at, Ticket.started_at, Ticket.finished_at, Ticket.public_token)
_CALL = dict(state="called", counter_id=bindparam("counter_id"), target_counter_id=None,
             call_count=Ticket.call_count + 1, called_at=func.coalesce(Ticket.called_at, bindparam("now")))
_CLAIM_SQLITE = (update(Ticket).where(Ticket.id == bindparam("ticket_id"), Ticket.state == "waiting")
                 .values(**_CALL).returning(*_CALLED_COLUMNS))
_CLAIM_PG = (update(Ticket).where(Ticket.id == select(Ticket.id).where(
    Ticket.id == bindparam("ticket_id"), Ticket.state == "waiting").with_for_update(skip_locked=True)
    .scalar_subquery()).values(**_CALL).returning(*_CALLED_COLUMNS))


def _claim(session, ticket_id: int, counter_id: int, now):
    """Call a waiting ticket in one statement, or None if another caller holds or took it.

    SQLite: the transaction began IMMEDIATE, so no one else writes, and the state is checked in the
    WHERE. PostgreSQL: FOR UPDATE SKIP LOCKED never waits for a ticket another counter is taking, and
    re-checks the state under the lock.
    """
    stmt = _CLAIM_PG if session.bind.dialect.name == "postgresql" else _CLAIM_SQLITE
    params = {"ticket_id": ticket_id, "counter_id": counter_id, "now": now}
    return session.connection().execute(stmt, params).one_or_none()


def _called_view(session, ctx: Context, office: OfficeRef, counter: CounterRef, row) -> dict:
    """The view of a ticket just called, from the claim's RETURNING row and objects already loaded."""
    services = {link.service_id: link.service for link in counter.links}
    service = services.get(row.service_id) or session.get(Service, row.service_id)  # transferred to this counter
    ticket = SimpleNamespace(**row._mapping, state="called", office=office, counter=counter, target_counter=None,
                             service=service)
    return ticket_view(session, ticket, ctx.clock(), ctx.base_url)


def call_ticket(ctx: Context, actor: Actor, office_slug: str, counter_slug: str, ticket_id: int) -> dict:
    """Call one given ticket (waiting or parked) to this counter."""
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        office = office_by_slug(session, office_slug, actor)
        counter = counter_by_slug(session, office, counter_slug)
        ticket = ticket_by_id(session, ticket_id, actor, lock=True)
        if ticket.office_id != office.id:
            raise Conflict(f"ticket {ticket_id} belongs to another office", "wrong_office")
        _ensure_open(uow, office, counter, actor, now)
        return _call(uow, ctx, office, counter, ticket, actor, now)


def _call(uow: UnitOfWork, ctx: Context, office: Office, counter: Counter, ticket: Ticket, actor: Actor,
          now) -> dict:
    ticket.state = transition(ticket.state_enum, Action.CALL).value
    ticket.counter = counter
    ticket.target_counter_id = None
    ticket.call_count += 1
    ticket.called_at = ticket.called_at or now
    uow.session.flush()
    view = ticket_view(uow.session, ticket, now, ctx.base_url)
    uow.record(office, "called", now, actor, ticket_id=ticket.id, service_id=ticket.service_id,
               counter_id=counter.id, details={"code": ticket.code, "call_count": ticket.call_count},
               data={"ticket": view, "recall": False})
    return view


def _ensure_open(uow: UnitOfWork, office: Office, counter: Counter, actor: Actor, now) -> None:
    """A clerk who calls is working: a closed or paused counter opens."""
    if counter.state != "open":
        _set_state(uow, office, counter, "open", actor, now)


def _set_state(uow: UnitOfWork, office: Office, counter: Counter, state: str, actor: Actor, now) -> None:
    previous, counter.state, counter.state_since = counter.state, state, now
    uow.session.flush()
    uow.record(office, COUNTER_STATE_EVENTS[state], now, actor, counter_id=counter.id,
               details={"from": previous}, data={"counter": counter_view(counter)})


def set_counter_state(ctx: Context, actor: Actor, office_slug: str, counter_slug: str, state: str) -> dict:
    """Open, pause or close a counter; setting the state it already has changes nothing."""
    with ctx.uow() as uow:
        office = office_by_slug(uow.session, office_slug, actor)
        counter = counter_by_slug(uow.session, office, counter_slug)
        if counter.state != state:
            _set_state(uow, office, counter, state, actor, ctx.clock())
        return counter_view(counter)

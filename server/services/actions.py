"""What a clerk does with a ticket once it is called: recall, start, finish, no-show, requeue, park,
cancel and transfer. Each is one transaction on a locked ticket."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from server.db.models import Ticket
from server.queue import Action, transition

from .context import Context
from .errors import Invalid
from .lookup import counter_by_slug, service_by_slug, ticket_by_id
from .uow import Actor
from .views import ticket_view

EVENT_KIND = {
    Action.RECALL: "recalled",
    Action.START: "started",
    Action.FINISH: "finished",
    Action.NO_SHOW: "no_show",
    Action.REQUEUE: "requeued",
    Action.PARK: "parked",
    Action.CANCEL: "cancelled",
    Action.TRANSFER: "transferred",
}
SIMPLE_ACTIONS = {Action.RECALL, Action.START, Action.FINISH, Action.NO_SHOW, Action.PARK, Action.CANCEL}


def act(ctx: Context, actor: Actor, ticket_id: int, action: Action, *, position: str = "back",
        service: str | None = None, counter: str | None = None) -> dict:
    """Apply one clerk action to a ticket and log it."""
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        ticket = ticket_by_id(session, ticket_id, actor, lock=True)
        new_state = transition(ticket.state_enum, action)
        counter_id = ticket.counter_id
        details: dict = {"code": ticket.code, "from": ticket.state}
        if action in SIMPLE_ACTIONS:
            _apply_simple(ticket, action, now)
        elif action is Action.REQUEUE:
            _requeue(session, ticket, position, now)
            details["position"] = position
        elif action is Action.TRANSFER:
            details |= _transfer(session, ticket, service, counter, position, now)
        ticket.state = new_state.value
        session.flush()
        view = ticket_view(session, ticket, now, ctx.base_url)
        uow.record(ticket.office, EVENT_KIND[action], now, actor, ticket_id=ticket.id,
                   service_id=ticket.service_id, counter_id=counter_id, details=details,
                   data={"ticket": view, "recall": action is Action.RECALL})
        return view


def _apply_simple(ticket: Ticket, action: Action, now: datetime) -> None:
    if action is Action.RECALL:
        ticket.call_count += 1
    elif action is Action.START:
        ticket.started_at = ticket.started_at or now
    elif action in (Action.FINISH, Action.NO_SHOW, Action.CANCEL):
        ticket.finished_at = now


def _requeue(session, ticket: Ticket, position: str, now: datetime) -> None:
    ticket.counter = None  # the relationship, not the column: it is loaded, and the view reads it
    ticket.enqueued_at = _queue_time(session, ticket, position, now)


def _transfer(session, ticket: Ticket, service: str | None, counter: str | None, position: str,
              now: datetime) -> dict:
    if bool(service) == bool(counter):
        raise Invalid("give either 'service' or 'counter' to transfer to", "transfer_target")
    if service:
        target = service_by_slug(session, ticket.office, service)
        ticket.service = target
        ticket.target_counter = None
        moved = {"to_service": target.slug}
    else:
        target = counter_by_slug(session, ticket.office, counter)
        ticket.target_counter = target
        moved = {"to_counter": target.slug}
    ticket.counter = None
    session.flush()
    ticket.enqueued_at = _queue_time(session, ticket, position, now)
    return moved | {"position": position}


def _queue_time(session, ticket: Ticket, position: str, now: datetime) -> datetime:
    """The sort time that puts the ticket behind (back) or ahead of (front) everyone in its new queue.

    Computed from the queue itself, so equal or skewed clocks of several processes cannot misplace it.
    """
    if position not in ("front", "back"):
        raise Invalid("position must be 'front' or 'back'", "invalid_position")
    same_queue = (
        Ticket.target_counter_id == ticket.target_counter_id if ticket.target_counter_id
        else (Ticket.service_id == ticket.service_id) & Ticket.target_counter_id.is_(None)
    )
    edge = func.min if position == "front" else func.max
    other = session.scalar(
        select(edge(Ticket.enqueued_at)).where(
            Ticket.office_id == ticket.office_id, Ticket.state == "waiting", Ticket.id != ticket.id, same_queue)
    )
    if other is None:
        return now
    step = timedelta(milliseconds=1)
    return min(other - step, now) if position == "front" else max(other + step, now)

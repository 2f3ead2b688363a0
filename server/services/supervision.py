"""The supervisor's live view: per service the queue against its target, per counter who works there and on what.

Read in the realtime layer's snapshot session after each batch of changes, so every query here is bounded by an
index: waiting tickets (ix_tickets_queue), tickets at counters, a few tickets' own events (ix_events_ticket), and
today's counter events (ix_events_office_kind_at). When a counter's state last changed is kept on the counter.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from server.db.models import ApiToken, Event, Office, Ticket, User
from server.queue.numbering import service_day
from server.queue.states import COUNTER_STATE_EVENTS

from .views import iso, service_view

COUNTER_STATE_KINDS = tuple(COUNTER_STATE_EVENTS.values())
# Events a person at a counter causes there; the latest one today names who works at it.
WORK_KINDS = ("called", "recalled", "started", "finished", "no_show", "parked", "requeued", "transferred",
              *COUNTER_STATE_KINDS)
NEVER = datetime.min.replace(tzinfo=UTC)
SERVICE_FIELDS = ("slug", "name", "names", "prefix", "target_wait", "waiting", "open_counters", "estimate",
                  "issuing", "closed_reason")


# The statements of every dashboard refresh, built once and bound per call (building one cost more than running it).
_OLDEST_WAITING = (select(Ticket.service_id, func.min(Ticket.created_at))
                   .where(Ticket.office_id == bindparam("office_id"), Ticket.state == "waiting",
                          Ticket.target_counter_id.is_(None))
                   .group_by(Ticket.service_id))
_LATEST_WORK = (select(func.max(Event.seq))
                .where(Event.office_id == bindparam("office_id"), Event.kind.in_(WORK_KINDS),
                       Event.at >= bindparam("day_start"), Event.counter_id.is_not(None),
                       or_(Event.user_id.is_not(None), Event.token_id.is_not(None)))
                .group_by(Event.counter_id))
_PEOPLE = (select(Event.counter_id, User.name.label("user"), ApiToken.name.label("token"))
           .outerjoin(User, User.id == Event.user_id).outerjoin(ApiToken, ApiToken.id == Event.token_id)
           .where(Event.office_id == bindparam("office_id"), Event.seq.in_(_LATEST_WORK)))
_AT_COUNTERS = (select(Ticket.id, Ticket.code, Ticket.service_id, Ticket.state, Ticket.counter_id, Ticket.call_count,
                       Ticket.called_at, Ticket.started_at)
                .where(Ticket.office_id == bindparam("office_id"), Ticket.state.in_(["called", "serving"]),
                       Ticket.counter_id.is_not(None)))
_LAST_CALLS = (select(Event.ticket_id, func.max(Event.at))
               .where(Event.ticket_id.in_(bindparam("ticket_ids", expanding=True)),
                      Event.kind.in_(["called", "recalled"]))
               .group_by(Event.ticket_id))


def supervisor_view(session: Session, office: Office, now: datetime) -> dict:
    """Services and counters of an office as the dashboard shows them; `now` lets clients align their clocks."""
    return {"now": iso(now), "services": services_now(session, office, now),
            "counters": counters_now(session, office, now)}


def services_now(session: Session, office: Office, now: datetime) -> list[dict]:
    """Each active service: waiting count, estimate, cut-off (once estimates give one) and its oldest waiting ticket."""
    oldest = dict(session.execute(_OLDEST_WAITING, {"office_id": office.id}).all())
    out = []
    for s in office.services:
        if not s.active:
            continue
        view = service_view(session, s, now)
        out.append({k: view.get(k) for k in SERVICE_FIELDS} | {
            "cutoff": view.get("cutoff"), "oldest_waiting_at": iso(oldest.get(s.id))})
    return out


def counters_now(session: Session, office: Office, now: datetime) -> list[dict]:
    """Each counter: its state and since when, the person working there, and its current ticket."""
    people = _people(session, office, now)
    tickets = _current_tickets(session, office)
    slugs = {s.id: s.slug for s in office.services}
    return [{"slug": c.slug, "name": c.name, "state": c.state, "since": iso(c.state_since),
             "services": [link.service.slug for link in c.links],
             "clerk": None if c.state == "closed" else people.get(c.id),
             "ticket": _ticket_brief(tickets.get(c.id), slugs)} for c in office.counters]


def _people(session: Session, office: Office, now: datetime) -> dict[int, str]:
    """Who last worked at each counter today: the user (or API token) of its latest counter event.

    Counters and clerks are not linked otherwise: a clerk works any counter of the office.
    """
    zone = ZoneInfo(office.timezone)
    day_start = datetime.combine(service_day(now, zone), time(0), tzinfo=zone)
    rows = session.execute(_PEOPLE, {"office_id": office.id, "day_start": day_start})
    return {r.counter_id: r.user or r.token for r in rows}


def _current_tickets(session: Session, office: Office) -> dict[int, dict]:
    """The ticket each counter works on (being served before being called), with the moment it got there."""
    rows = session.execute(_AT_COUNTERS, {"office_id": office.id}).all()
    last_call = _last_calls(session, [r.id for r in rows if r.state == "called"])
    current: dict[int, dict] = {}
    for r in rows:
        since = (r.started_at if r.state == "serving" else last_call.get(r.id, r.called_at)) or NEVER
        mine = current.get(r.counter_id)
        if mine is None or (r.state, since) > (mine["state"], mine["since"]):  # "serving" > "called"
            current[r.counter_id] = {"id": r.id, "code": r.code, "service_id": r.service_id, "state": r.state,
                                     "call_count": r.call_count, "since": since}
    return current


def _last_calls(session: Session, ticket_ids: list[int]) -> dict[int, datetime]:
    """The latest call or recall of each ticket: a recall restarts the clerk's waiting for the citizen."""
    if not ticket_ids:
        return {}
    return dict(session.execute(_LAST_CALLS, {"ticket_ids": ticket_ids}).all())


def _ticket_brief(ticket: dict | None, slugs: dict[int, str]) -> dict | None:
    if ticket is None:
        return None
    return {"id": ticket["id"], "code": ticket["code"], "service": slugs.get(ticket["service_id"]),
            "state": ticket["state"], "call_count": ticket["call_count"], "since": iso(ticket["since"])}

"""The audit log as auditors read it: filtered, newest first, paged by id (no writes here)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, Office

from .context import Context
from .lookup import office_by_slug
from .uow import Actor
from .views import iso


def entry_view(entry: AuditEntry, office: str | None) -> dict:
    return {"id": entry.id, "at": iso(entry.at), "actor": entry.actor, "role": entry.role, "office": office,
            "action": entry.action, "target": entry.target, "ip": entry.ip, "details": entry.details}


def list_entries(ctx: Context, actor: Actor, *, office: str | None = None, user: str | None = None,
                 action: str | None = None, date_from: date | None = None, date_to: date | None = None,
                 limit: int = 100, before_id: int | None = None) -> dict:
    """Newest first: {"entries": [...], "next_before": the id to pass as before_id for the next page, or None}.

    Dates are UTC days, both inclusive; `action` matches as a prefix ("ticket." finds every ticket action).
    """
    with ctx.db.read_session() as session:
        query = (select(AuditEntry, Office.slug).outerjoin(Office, AuditEntry.office_id == Office.id)
                 .where(*visible_to(actor))
                 .where(*_filters(session, actor, office, user, action, date_from, date_to)))
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        rows = session.execute(query.order_by(AuditEntry.id.desc()).limit(limit + 1)).all()
        entries = [entry_view(entry, slug) for entry, slug in rows[:limit]]
    return {"entries": entries, "next_before": entries[-1]["id"] if len(rows) > limit else None}


def visible_to(actor: Actor) -> list[ColumnElement[bool]]:
    """City-wide accounts see everything; office-bound ones their offices' entries and their own."""
    if actor.office_ids is None:
        return []
    mine = [AuditEntry.office_id.in_(actor.office_ids)]
    if actor.user_id is not None:
        mine.append(AuditEntry.user_id == actor.user_id)
    if actor.token_id is not None:
        mine.append(AuditEntry.token_id == actor.token_id)
    return [or_(*mine)]


def _filters(session: Session, actor: Actor, office: str | None, user: str | None, action: str | None,
             date_from: date | None, date_to: date | None) -> list[ColumnElement[bool]]:
    where = []
    if office is not None:  # unknown: 404; another office's: 403, as everywhere in the API
        where.append(AuditEntry.office_id == office_by_slug(session, office, actor).id)
    if user is not None:
        where.append(AuditEntry.actor == user)
    if action is not None:
        where.append(AuditEntry.action.startswith(action, autoescape=True))
    if date_from is not None:
        where.append(AuditEntry.at >= _utc_midnight(date_from))
    if date_to is not None:
        where.append(AuditEntry.at < _utc_midnight(date_to + timedelta(days=1)))
    return where


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)

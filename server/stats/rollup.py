"""The rollup cache: closed days of the event log kept as daily_stats rows, so a month of KPIs reads a few hundred
rows instead of every event.

A day is closed when it is before the office's today and no ticket of it or of an earlier day is still open
(nothing can happen to it any more). The first time a closed day is asked for, its statistics are computed from
the events and stored, one row per service (empty ones too, so a day without tickets is known to be cached), in
the same anonymous form retention keeps (server/stats/daily.py). The rows are derived data: `rebuild` deletes and
recomputes them from the events, for days whose events still exist (not before office.details_purged_before).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from server.db.models import DailyStats, Event, Office, Service, Ticket
from server.queue import ACTIVE_STATES
from server.queue.numbering import service_day

from .daily import DayStats, from_events
from .kpis import forget_stored, runs

OPEN_STATES = tuple(s.value for s in ACTIVE_STATES)
MAX_DAYS_PER_PASS = 31  # days computed from events per query, so memory stays bounded


def closed_before(session, office: Office, today: date) -> date:
    """The first day that is not closed yet: today, or the day of the oldest ticket still open."""
    oldest_open = session.scalar(select(func.min(Ticket.service_day)).where(
        Ticket.office_id == office.id, Ticket.state.in_(OPEN_STATES)))
    return min(today, oldest_open) if oldest_open else today


def ensure(ctx, office_id: int, first: date, last: date) -> int:
    """Cache the closed days from `first` to `last` that are not cached yet; returns how many were added."""
    with ctx.db.read_session() as session:
        office = session.get(Office, office_id)
        todo = _uncached(session, office, first, last, service_day(ctx.clock(), ZoneInfo(office.timezone)))
        if not todo:
            return 0
        service_ids = list(session.scalars(select(Service.id).where(Service.office_id == office.id)))
        targets = dict(session.execute(select(Service.id, Service.target_wait_minutes)
                                       .where(Service.office_id == office.id)).all())
        rows = []
        for run_first, run_last in _passes(todo):
            days = from_events(session, office, run_first, run_last, targets)
            for offset in range((run_last - run_first).days + 1):
                day = run_first + timedelta(days=offset)
                rows += [{"service_id": sid, "day": day, "office_id": office.id, "created_at": ctx.clock(),
                          "data": days.get(day, {}).get(sid, DayStats()).to_data()} for sid in service_ids]
    _store(ctx, office_id, rows)
    return len(todo)


def _uncached(session, office: Office, first: date, last: date, today: date) -> list[date]:
    purged = office.details_purged_before
    start = max(first, purged) if purged else first
    end = min(last, closed_before(session, office, today) - timedelta(days=1))
    if end < start:
        return []
    cached = set(session.scalars(select(DailyStats.day).distinct().where(
        DailyStats.office_id == office.id, DailyStats.day >= start, DailyStats.day <= end)))
    return [d for d in (start + timedelta(days=i) for i in range((end - start).days + 1)) if d not in cached]


def _passes(days: list[date]) -> list[tuple[date, date]]:
    out = []
    for first, last in runs(days):
        while first <= last:
            end = min(last, first + timedelta(days=MAX_DAYS_PER_PASS - 1))
            out.append((first, end))
            first = end + timedelta(days=1)
    return out


def _store(ctx, office_id: int, rows: list[dict]) -> None:
    """Insert the rows; a row another request (or retention) wrote meanwhile is left as it is."""
    with ctx.uow() as uow:
        purged = uow.session.scalar(select(Office.details_purged_before).where(Office.id == office_id))
        rows = [r for r in rows if not purged or r["day"] >= purged]
        conn = uow.session.connection()
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        for start in range(0, len(rows), 500):
            conn.execute(dialect.insert(DailyStats).on_conflict_do_nothing(), rows[start:start + 500])


@dataclass
class Rebuilt:
    office: str
    first: date | None
    last: date | None
    deleted: int
    days: int


def rebuild(ctx, office: str | None = None, first: date | None = None, last: date | None = None) -> list[Rebuilt]:
    """Recompute the cached rows from the events, per office, for the days from `first` to `last` (default: all
    days whose events still exist). Days retention aggregated (before details_purged_before) are left alone."""
    with ctx.db.read_session() as session:
        query = select(Office.id, Office.slug).order_by(Office.slug)
        offices = session.execute(query.where(Office.slug == office) if office else query).all()
    try:
        return [_rebuild_office(ctx, office_id, slug, first, last) for office_id, slug in offices]
    finally:
        forget_stored()  # other processes tell rewritten rows by their fingerprint (see kpis.py)


def _rebuild_office(ctx, office_id: int, slug: str, first: date | None, last: date | None) -> Rebuilt:
    with ctx.uow() as uow:
        office = uow.session.get(Office, office_id)
        tz = ZoneInfo(office.timezone)
        first_event = uow.session.scalar(select(func.min(Event.at)).where(Event.office_id == office_id))
        if first_event is None:
            return Rebuilt(slug, None, None, 0, 0)
        start = max(d for d in (first, office.details_purged_before, service_day(first_event, tz)) if d)
        end = last or service_day(ctx.clock(), tz)
        deleted = uow.session.execute(delete(DailyStats).where(
            DailyStats.office_id == office_id, DailyStats.day >= start, DailyStats.day <= end)).rowcount
    return Rebuilt(slug, start, end, deleted, ensure(ctx, office_id, start, end) if start <= end else 0)

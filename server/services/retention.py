"""DSGVO retention: ticket details older than the retention period are deleted; their statistics stay, aggregated
per service and office-local day in daily_stats (counts and duration histograms, nothing that points to a ticket).

Per office, one transaction: aggregate the days from the last purge (or the first ticket) up to the cutoff day,
then delete print jobs, events, tickets, used or expired pairing codes and daily number counters before it, and
move office.details_purged_before on. A second run the same day finds nothing to do. A ticket of an old day that
still has events on or after the cutoff day (e.g. called after midnight) stays until those are old too, so the
statistics of days still kept in detail never lose an event. The audit log is kept: it is the accountability
record of staff actions (append-only in the database) and holds no citizen data; its IP addresses are staff's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, distinct, exists, func, insert, or_, select
from sqlalchemy.orm import Session

from server.db.models import (
    AuditEntry,
    DailySequence,
    DailyStats,
    Device,
    Event,
    Office,
    PairingCode,
    PrintJob,
    RetentionPurge,
    Service,
    StaffSession,
    Ticket,
)
from server.queue.numbering import service_day
from server.stats.daily import day_bounds, from_events

from .context import Context
from .errors import Invalid
from .lookup import office_by_slug
from .uow import Actor

CLI = Actor(role="admin", name="cli")
MIN_DAYS, MAX_DAYS = 1, 3650
CHUNK = timedelta(days=31)  # days aggregated per pass over the event log, so a first run's memory stays bounded
DELETED = ("print_jobs", "events", "tickets", "pairing_codes", "daily_sequences")  # in foreign-key-safe order


@dataclass
class OfficePurge:
    """What retention did (or, in a dry run, would do) for one office."""

    office: str
    cutoff: date  # details of days before it are gone afterwards
    purged_before: date | None  # as it was before this run
    instant: datetime  # the start of the cutoff day, UTC
    aggregated_days: int = 0
    daily_stats: int = 0
    deleted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DELETED, 0))

    @property
    def due(self) -> bool:
        return self.purged_before is None or self.purged_before < self.cutoff


@dataclass
class PurgeReport:
    days: int
    dry_run: bool
    offices: list[OfficePurge]
    staff_sessions: int | None  # None: not part of this run (one office only)


def purge(ctx: Context, *, days: int, dry_run: bool = False, office: str | None = None,
          actor: Actor = CLI) -> PurgeReport:
    """Delete ticket details older than `days` (keeping their daily statistics), per office or for one office."""
    check_days(days)
    with ctx.db.read_session() as session:
        slugs = [office_by_slug(session, office).slug] if office else list(
            session.scalars(select(Office.slug).order_by(Office.slug)))
    results = [_purge_office(ctx, slug, days, dry_run, actor) for slug in slugs]
    sessions = None
    if office is None:
        # Staff sessions belong to users, not offices: keep what any office still keeps.
        before = min((r.instant for r in results), default=_utc_midnight(ctx.clock()) - timedelta(days=days))
        sessions = _purge_sessions(ctx, before, dry_run, actor)
    return PurgeReport(days=days, dry_run=dry_run, offices=results, staff_sessions=sessions)


def check_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise Invalid(f"the retention period must be {MIN_DAYS} to {MAX_DAYS} days, not {days!r}", "invalid_days")


def _purge_office(ctx: Context, slug: str, days: int, dry_run: bool, actor: Actor) -> OfficePurge:
    if dry_run:
        with ctx.db.snapshot_session() as session:
            return _plan(session, slug, days, ctx.clock())[1]
    with ctx.db.read_session() as session:
        report = _report(_office(session, slug), days, ctx.clock())
    if not report.due:
        return report  # nothing to do takes no lock at all
    with ctx.uow() as uow:
        # The office row is locked first, "for no key update" (a second purge of the office waits; a live write
        # that inserts a ticket of the office takes it only "for key share" and goes on; one that bumps the
        # office's seq waits for the commit). The purge then touches only old rows, which live writes do not.
        # SQLite's BEGIN IMMEDIATE already excludes every other writer.
        now = ctx.clock()
        office, report, rows = _plan(uow.session, slug, days, now, lock=True)
        if report.due:
            _apply(uow.session, office, report, rows, now, actor)
        return report


def _plan(session: Session, slug: str, days: int, now: datetime, lock: bool = False) -> tuple:
    """(office, report, daily_stats rows): what to aggregate and how much to delete, read in the transaction
    that will do it."""
    office = _office(session, slug, lock)
    report = _report(office, days, now)
    if not report.due:
        return office, report, []
    first = office.details_purged_before or _first_day(session, office) or report.cutoff
    report.aggregated_days = max(0, (report.cutoff - first).days)
    rows = _aggregate(session, office, first, report.cutoff, now)
    report.daily_stats = len(rows)
    conn = session.connection()
    for name, model, condition in _targets(office, report.cutoff, report.instant):
        report.deleted[name] = conn.scalar(select(func.count()).select_from(model).where(condition))
    return office, report, rows


def _office(session: Session, slug: str, lock: bool = False) -> Office:
    query = select(Office).where(Office.slug == slug)
    return session.scalars(query.with_for_update(key_share=True) if lock else query).one()


def _report(office: Office, days: int, now: datetime) -> OfficePurge:
    """The office's cutoff: its local today minus the period, and where that day starts."""
    tz = ZoneInfo(office.timezone)
    cutoff = service_day(now, tz) - timedelta(days=days)
    return OfficePurge(office=office.slug, cutoff=cutoff, purged_before=office.details_purged_before,
                       instant=day_bounds(cutoff, cutoff, tz)[0])


def _first_day(session: Session, office: Office) -> date | None:
    first_ticket = session.scalar(select(func.min(Ticket.service_day)).where(Ticket.office_id == office.id))
    first_event = session.scalar(select(func.min(Event.at)).where(Event.office_id == office.id))
    days = [d for d in (first_ticket, first_event and service_day(first_event, ZoneInfo(office.timezone))) if d]
    return min(days, default=None)


def _aggregate(session: Session, office: Office, first: date, cutoff: date, now: datetime) -> list[dict]:
    """daily_stats rows for the days from `first` up to the cutoff, where a service had anything to count."""
    targets = dict(session.execute(select(Service.id, Service.target_wait_minutes)
                                   .where(Service.office_id == office.id)).all())
    rows, start = [], first
    while start < cutoff:
        last = min(start + CHUNK, cutoff) - timedelta(days=1)
        for day, by_service in sorted(from_events(session, office, start, last, targets).items()):
            rows += [{"service_id": sid, "day": day, "office_id": office.id, "data": stats.to_data(),
                      "created_at": now} for sid, stats in by_service.items() if not stats.is_empty()]
        start = last + timedelta(days=1)
    return rows


def _targets(office: Office, cutoff: date, instant: datetime) -> list[tuple]:
    """(name, table, which rows) of everything retention deletes, in foreign-key-safe order."""
    late = exists().where(Event.ticket_id == Ticket.id, Event.at >= instant)
    old_tickets = select(Ticket.id).where(Ticket.office_id == office.id, Ticket.service_day < cutoff, ~late)
    devices = select(Device.id).where(Device.office_id == office.id)
    services = select(Service.id).where(Service.office_id == office.id)
    return [
        ("print_jobs", PrintJob, PrintJob.ticket_id.in_(old_tickets)),
        # The old tickets' events are all before the instant (a ticket with a later event is not old yet).
        ("events", Event, and_(Event.office_id == office.id, Event.at < instant)),
        ("tickets", Ticket, Ticket.id.in_(old_tickets)),
        ("pairing_codes", PairingCode, and_(PairingCode.device_id.in_(devices),
                                            or_(PairingCode.used_at < instant, PairingCode.expires_at < instant))),
        ("daily_sequences", DailySequence, and_(DailySequence.service_id.in_(services),
                                                DailySequence.service_day < cutoff)),
    ]


def _apply(session: Session, office: Office, report: OfficePurge, rows: list[dict], now: datetime,
           actor: Actor) -> None:
    conn = session.connection()
    for _name, model, condition in _targets(office, report.cutoff, report.instant):
        if model is Event:
            _delete_events(conn, office.id, condition)
        else:
            conn.execute(delete(model).where(condition))
    # The statistics cache (server/stats/rollup.py) may hold rows of these days already: retention's own,
    # recomputed in this transaction, replace them (days before purged_before are retention's from earlier runs).
    kept = DailyStats.day >= report.purged_before if report.purged_before else True
    conn.execute(delete(DailyStats).where(DailyStats.office_id == office.id, DailyStats.day < report.cutoff, kept))
    if rows:
        conn.execute(insert(DailyStats), rows)
    office.details_purged_before = report.cutoff
    _audit(session, actor, now, office.id, report.office, {
        "cutoff": report.cutoff.isoformat(), "aggregated_days": report.aggregated_days,
        "daily_stats": report.daily_stats, **report.deleted})


def _delete_events(conn, office_id: int, condition) -> None:
    """The event log is append-only by trigger; retention is its one sanctioned deletion. The purge marks its
    own transaction (a row in retention_purges, gone again before the commit, so no other transaction ever sees
    it) and the guard lets its deletes through; every other writer is still refused."""
    txid = conn.exec_driver_sql("SELECT txid_current()").scalar_one() if conn.dialect.name == "postgresql" else None
    marker = conn.execute(insert(RetentionPurge).values(txid=txid, office_id=office_id)).inserted_primary_key[0]
    conn.execute(delete(Event).where(condition))
    conn.execute(delete(RetentionPurge).where(RetentionPurge.id == marker))


def _purge_sessions(ctx: Context, before: datetime, dry_run: bool, actor: Actor) -> int:
    """Staff sessions that ended or expired before `before` (the earliest cutoff instant of all offices)."""
    condition = or_(StaffSession.ended_at < before, StaffSession.expires_at < before)
    if dry_run:
        with ctx.db.read_session() as session:
            return session.scalar(select(func.count()).select_from(StaffSession).where(condition))
    with ctx.uow() as uow:
        count = uow.session.execute(delete(StaffSession).where(condition)).rowcount
        if count:
            _audit(uow.session, actor, ctx.clock(), None, "staff_sessions", {"staff_sessions": count})
        return count


def _audit(session: Session, actor: Actor, now: datetime, office_id: int | None, target: str, details: dict) -> None:
    """In the purge's own transaction: the audit entry exists exactly when the deletion happened."""
    session.execute(insert(AuditEntry).values(
        at=now, user_id=actor.user_id, token_id=actor.token_id, actor=actor.name[:100], role=actor.role,
        office_id=office_id, action="retention.purge", target=target, details=details, ip=None))


def _utc_midnight(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(UTC).date(), time.min, UTC)


def status(ctx: Context, *, days: int) -> list[dict]:
    """Per office: until when details are purged, and how many ticket days are older than the period."""
    check_days(days)
    out = []
    with ctx.db.read_session() as session:
        for office in session.scalars(select(Office).order_by(Office.slug)):
            cutoff = _report(office, days, ctx.clock()).cutoff
            old_days, oldest = session.execute(
                select(func.count(distinct(Ticket.service_day)), func.min(Ticket.service_day))
                .where(Ticket.office_id == office.id, Ticket.service_day < cutoff)).one()
            purged = office.details_purged_before  # later rows are the statistics cache, not retention's
            aggregated = session.scalar(select(func.count(distinct(DailyStats.day))).where(
                DailyStats.office_id == office.id, DailyStats.day < purged)) if purged else 0
            out.append({"office": office.slug, "purged_before": office.details_purged_before, "cutoff": cutoff,
                        "old_ticket_days": old_days, "oldest_ticket_day": oldest, "aggregated_days": aggregated})
    return out

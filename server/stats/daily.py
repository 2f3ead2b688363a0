"""One office-local day of one service, accumulated from the event log, and its anonymous stored form.

Counts belong to the day their event happened; wait, walk and service times belong to the day the ticket was
issued (its service day), whenever its later events happened. The stored form (daily_stats.data) keeps the counts
and, for each kind of time, a histogram of whole seconds: no ticket, no code, no time of day.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server.db.models import DailyStats, Event, Office, Ticket

COUNTED = {"issued": "issued", "finished": "served", "no_show": "no_show", "cancelled": "cancelled",
           "transferred": "transferred", "refused": "refused", "recalled": "recalled"}
TICKET_KINDS = ("issued", "called", "started", "finished")
TIMES = ("waits", "walks", "services")

# office-local day -> service id -> its statistics
Days = dict[date, dict[int, "DayStats"]]


@dataclass
class DayStats:
    """Counts and durations (seconds) of one service, for one day or summed over several."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED.values(), 0))
    waits: list[float] = field(default_factory=list)
    walks: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    within_target: int = 0

    def add(self, other: DayStats) -> None:
        for key, n in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + n
        for name in TIMES:
            getattr(self, name).extend(getattr(other, name))
        self.within_target += other.within_target

    def is_empty(self) -> bool:
        return not any(self.counts.values()) and not any(getattr(self, name) for name in TIMES)

    def to_data(self) -> dict:
        """The anonymous stored form: counts, and durations as {"<whole seconds>": how many}."""
        return {"counts": dict(self.counts), "within_target": self.within_target,
                **{name: _histogram(getattr(self, name)) for name in TIMES}}

    @classmethod
    def from_data(cls, data: dict) -> DayStats:
        stats = cls(within_target=int(data.get("within_target", 0)))
        for key, n in data.get("counts", {}).items():
            stats.counts[key] = stats.counts.get(key, 0) + int(n)
        for name in TIMES:
            values = getattr(stats, name)
            for seconds, n in data.get(name, {}).items():
                values.extend([float(seconds)] * int(n))
        return stats


def _histogram(values: list[float]) -> dict[str, int]:
    counted = Counter(int(round(v)) for v in values)
    return {str(seconds): counted[seconds] for seconds in sorted(counted)}


def day_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants from the start of `first` to the end of `last`, in the office's time zone."""
    start = datetime.combine(first, time.min, tz).astimezone(timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time.min, tz).astimezone(timezone.utc)
    return start, end


def from_events(session, office: Office, first: date, last: date, targets: dict[int, int | None]) -> Days:
    """Each day's statistics from the event log, for the office's services (`targets`: id -> target wait)."""
    tz = ZoneInfo(office.timezone)
    days: Days = {}

    def stats(day: date, service_id: int) -> DayStats:
        return days.setdefault(day, {}).setdefault(service_id, DayStats())

    start, end = day_bounds(first, last, tz)
    for kind, at, service_id in session.execute(
            select(Event.kind, Event.at, Event.service_id)
            .where(Event.office_id == office.id, Event.kind.in_(tuple(COUNTED)), Event.at >= start, Event.at < end)):
        if service_id in targets:
            stats(at.astimezone(tz).date(), service_id).counts[COUNTED[kind]] += 1
    for (_ticket, day, service_id), marks in _ticket_marks(session, office, first, last).items():
        if service_id in targets and "issued" in marks:
            _add_times(stats(day, service_id), marks, targets[service_id])
    return days


def _ticket_marks(session, office: Office, first: date, last: date) -> dict[tuple, dict[str, datetime]]:
    """For each ticket issued from `first` to `last`: when it was first issued, called, started and finished,
    and when it was last called before it started (the walk starts at the call the citizen answered)."""
    rows = session.execute(
        select(Event.ticket_id, Ticket.service_day, Ticket.issued_service_id, Event.kind, Event.at)
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(Ticket.office_id == office.id, Ticket.service_day >= first, Ticket.service_day <= last,
               Event.kind.in_((*TICKET_KINDS, "recalled")))
        .order_by(Event.seq))
    firsts: dict[tuple, dict[str, datetime]] = {}
    for ticket_id, day, service_id, kind, at in rows:
        marks = firsts.setdefault((ticket_id, day, service_id), {})
        if kind in TICKET_KINDS and kind not in marks:
            marks[kind] = at
        if kind in ("called", "recalled") and "started" not in marks:
            marks["last_called"] = at
    return firsts


def _add_times(stats: DayStats, marks: dict, target_minutes: int | None) -> None:
    if "called" in marks:
        wait = (marks["called"] - marks["issued"]).total_seconds()
        stats.waits.append(wait)
        if target_minutes and wait <= target_minutes * 60:
            stats.within_target += 1
    if "started" in marks and "called" in marks:
        stats.walks.append((marks["started"] - marks.get("last_called", marks["called"])).total_seconds())
    if "finished" in marks and "started" in marks:
        stats.services.append((marks["finished"] - marks["started"]).total_seconds())


def from_rows(session, office: Office, first: date, last: date) -> Days:
    """Each day's statistics from daily_stats (days whose details retention has deleted)."""
    days: Days = {}
    for row in session.scalars(select(DailyStats).where(
            DailyStats.office_id == office.id, DailyStats.day >= first, DailyStats.day <= last)):
        days.setdefault(row.day, {})[row.service_id] = DayStats.from_data(row.data)
    return days

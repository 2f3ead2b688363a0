"""One office-local day of one service, accumulated from the event log, and its anonymous stored form.

Which event feeds which number, and under which key of each breakdown:
- Counts (issued, served = finished, no-show, cancelled, transferred, refused with its reason, recalled) belong to
  the day and hour their event happened, and to the event's service, counter and clerk (user; none for a kiosk).
- Times belong to the ticket: to the day it was issued (its service day) and to the service it was issued for,
  whenever its later events happened. Wait (issue -> first call) and the service level: the hour it was issued,
  the counter and clerk that first called it. Walk (the call answered -> start) and service time (first start ->
  first finish): the counter and clerk that started it, the hour it started.
- Weekday and day breakdowns are the sums of whole days; the office row is the sum of everything.
Durations are whole seconds (rounded), so a day read back from its stored form gives the same numbers as the
event log. The stored form (daily_stats.data) keeps counts and, for each kind of time, a histogram of seconds,
for the service and per counter, clerk (user id) and hour: no ticket, no code, no time of day finer than the hour.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server.db.models import Event, Office, Ticket

COUNTED = {"issued": "issued", "finished": "served", "no_show": "no_show", "cancelled": "cancelled",
           "transferred": "transferred", "refused": "refused", "recalled": "recalled"}
REFUSALS = ("daily_cap_reached", "office_closed", "service_closed")
TICKET_KINDS = ("issued", "called", "started", "finished")
TIMES = ("waits", "walks", "services")
BREAKDOWNS = ("counter", "clerk", "hour")  # stored per day and service; weekday and day come from the date
NONE = "-"  # the key of events without a counter or clerk (a kiosk's issue, a refusal)

# office-local day -> service id -> its statistics
Days = dict[date, dict[int, "DayStats"]]


@dataclass
class Tally:
    """Counts and duration histograms ({whole seconds: how many}) of one group of events and tickets."""

    counts: Counter = field(default_factory=Counter)
    refusals: Counter = field(default_factory=Counter)
    waits: Counter = field(default_factory=Counter)
    walks: Counter = field(default_factory=Counter)
    services: Counter = field(default_factory=Counter)
    within_target: int = 0  # waits within their service's target
    targeted: int = 0  # waits of services that have a target

    def __post_init__(self) -> None:
        for name in TIMES:  # a list of seconds is accepted too
            values = getattr(self, name)
            if not isinstance(values, Counter):
                setattr(self, name, Counter(int(round(v)) for v in values))

    def add(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.refusals.update(other.refusals)
        for name in TIMES:
            getattr(self, name).update(getattr(other, name))
        self.within_target += other.within_target
        self.targeted += other.targeted

    def is_empty(self) -> bool:
        return not any(self.counts.values()) and not any(getattr(self, name) for name in TIMES)

    def to_data(self) -> dict:
        data = {"counts": {key: self.counts.get(key, 0) for key in COUNTED.values()},
                "within_target": self.within_target, "targeted": self.targeted,
                **{name: _histogram(getattr(self, name)) for name in TIMES}}
        if self.refusals:
            data["refusals"] = dict(sorted(self.refusals.items()))
        return data

    @classmethod
    def from_data(cls, data: dict) -> Tally:
        tally = cls(counts=Counter({k: int(n) for k, n in data.get("counts", {}).items()}),
                    refusals=Counter({k: int(n) for k, n in data.get("refusals", {}).items()}),
                    within_target=int(data.get("within_target", 0)))
        for name in TIMES:
            stored = data.get(name) or {}
            setattr(tally, name, Counter(dict(zip(map(int, stored), stored.values(), strict=True))))
        # rows written before "targeted" existed counted every wait against the target
        tally.targeted = int(data.get("targeted", sum(tally.waits.values())))
        return tally


@dataclass
class DayStats(Tally):
    """A service's tally (of one day or summed over several) with the same tallies per counter, clerk and hour."""

    by: dict[str, dict[str, Tally]] = field(default_factory=lambda: {name: {} for name in BREAKDOWNS})

    def part(self, breakdown: str, key) -> Tally:
        group = self.by[breakdown]
        key = NONE if key is None else str(key)
        if key not in group:
            group[key] = Tally()
        return group[key]

    def add(self, other: DayStats) -> None:
        super().add(other)
        for name, group in other.by.items():
            for key, tally in group.items():
                self.part(name, key).add(tally)

    def to_data(self) -> dict:
        return {**super().to_data(),
                "by": {name: {key: t.to_data() for key, t in sorted(self.by[name].items())} for name in BREAKDOWNS}}

    @classmethod
    def from_data(cls, data: dict) -> DayStats:
        stats = cls(**vars(Tally.from_data(data)))
        for name, group in data.get("by", {}).items():
            if name in stats.by:
                stats.by[name] = {key: Tally.from_data(part) for key, part in group.items()}
        return stats


def _histogram(values: Counter) -> dict[str, int]:
    return {str(seconds): values[seconds] for seconds in sorted(values) if values[seconds]}


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
        by_service = days.get(day) or days.setdefault(day, {})
        found = by_service.get(service_id)
        if found is None:
            found = by_service[service_id] = DayStats()
        return found

    start, end = day_bounds(first, last, tz)
    window = (Event.office_id == office.id, Event.at >= start, Event.at < end)
    counted = select(Event.kind, Event.at, Event.service_id, Event.counter_id, Event.user_id, None)
    refused = select(Event.kind, Event.at, Event.service_id, Event.counter_id, Event.user_id, Event.details)
    for kind, at, service_id, counter_id, user_id, details in [  # only refusals have details worth reading
            *session.execute(counted.where(*window, Event.kind.in_(tuple(set(COUNTED) - {"refused"})))),
            *session.execute(refused.where(*window, Event.kind == "refused"))]:
        if service_id in targets:
            local = at.astimezone(tz)
            reason = (details or {}).get("reason", "other") if kind == "refused" else None
            day = stats(local.date(), service_id)
            for tally in (day, day.part("counter", counter_id), day.part("clerk", user_id),
                          day.part("hour", local.hour)):
                tally.counts[COUNTED[kind]] += 1
                if reason:
                    tally.refusals[reason] += 1
    for (day, service_id), marks in _ticket_marks(session, office, first, last):
        if service_id in targets and "issued" in marks:
            _add_times(stats(day, service_id), marks, targets[service_id], tz)
    return days


def _ticket_marks(session, office: Office, first: date, last: date):
    """For each ticket issued from `first` to `last`: when (and by which counter and user) it was first issued,
    called, started and finished, and when it was last called before it started (the walk starts at the call the
    citizen answered)."""
    rows = session.execute(
        select(Event.ticket_id, Ticket.service_day, Ticket.issued_service_id, Event.kind, Event.at,
               Event.counter_id, Event.user_id)
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(Ticket.office_id == office.id, Ticket.service_day >= first, Ticket.service_day <= last,
               Event.kind.in_((*TICKET_KINDS, "recalled")))
        .order_by(Event.seq))
    tickets: dict[int, tuple] = {}
    for ticket_id, day, service_id, kind, at, counter_id, user_id in rows:
        marks = tickets.setdefault(ticket_id, ((day, service_id), {}))[1]
        if kind in TICKET_KINDS and kind not in marks:
            marks[kind] = (at, counter_id, user_id)
        if kind in ("called", "recalled") and "started" not in marks:
            marks["last_called"] = (at, counter_id, user_id)
    return tickets.values()


def _seconds(later: tuple, earlier: tuple) -> int:
    return int(round((later[0] - earlier[0]).total_seconds()))


def _add_times(stats: DayStats, marks: dict, target_minutes: int | None, tz: ZoneInfo) -> None:
    if "called" in marks:
        wait = _seconds(marks["called"], marks["issued"])
        within = bool(target_minutes) and wait <= target_minutes * 60
        _, counter_id, user_id = marks["called"]
        for tally in (stats, stats.part("counter", counter_id), stats.part("clerk", user_id),
                      stats.part("hour", marks["issued"][0].astimezone(tz).hour)):
            tally.waits[wait] += 1
            tally.within_target += within
            tally.targeted += bool(target_minutes)
    if "started" in marks and "called" in marks:
        started, counter_id, user_id = marks["started"]
        parts = (stats, stats.part("counter", counter_id), stats.part("clerk", user_id),
                 stats.part("hour", started.astimezone(tz).hour))
        walk = _seconds(marks["started"], marks.get("last_called", marks["called"]))
        service = _seconds(marks["finished"], marks["started"]) if "finished" in marks else None
        for tally in parts:
            tally.walks[walk] += 1
            if service is not None:
                tally.services[service] += 1

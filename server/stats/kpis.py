"""KPIs of an office over a date range, broken down by service, counter, clerk, hour of day, weekday or day.

Days come from three places: days before office.details_purged_before from the aggregates retention kept (a
missing row is a day without tickets); closed days from their cached rollup in daily_stats (server/stats/rollup.py),
where one exists; every other day (today, days with tickets still open, days not cached yet) from the event log.

The stored days of a range never change once written (a rebuild or retention rewrites them with a new created_at),
so each process keeps their aggregate, keyed by the range and a fingerprint of the rows (per day: rows and newest
created_at, one small query); a request then adds only the days read from the events (usually today).
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Text, cast, func, select

from server.db.models import Counter as CounterRow
from server.db.models import DailyStats, Office, Service, User

from .daily import COUNTED, NONE, REFUSALS, Days, DayStats, Tally, from_events

DIMENSIONS = ("service", "counter", "clerk", "hour", "weekday", "day")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class Aggregate:
    """Every breakdown of a date range at once: tallies by key, plus the office total."""

    total: Tally = field(default_factory=Tally)
    groups: dict[str, dict] = field(default_factory=lambda: {name: {} for name in DIMENSIONS})

    def tally(self, dimension: str, key) -> Tally:
        group = self.groups[dimension]
        if key not in group:
            group[key] = Tally()
        return group[key]

    def add(self, other: Aggregate) -> None:
        """Add another aggregate's tallies (before `finish`: its day, service, counter, clerk and hour tallies)."""
        for dimension, group in other.groups.items():
            for key, tally in group.items():
                self.tally(dimension, key).add(tally)


def runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as (first, last) runs of consecutive days."""
    out: list[list[date]] = []
    for day in sorted(days):
        if out and day - out[-1][1] == timedelta(days=1):
            out[-1][1] = day
        else:
            out.append([day, day])
    return [(a, b) for a, b in out]


def aggregate(days: Days, first: date, last: date) -> Aggregate:
    agg = accumulate(days, first, last)
    finish(agg, first, last)
    return agg


def accumulate(days: Days, first: date, last: date, agg: Aggregate | None = None) -> Aggregate:
    """The days' tallies by service, day, counter, clerk and hour (weekdays and the total come in `finish`)."""
    agg = agg or Aggregate()
    for day, by_service in days.items():
        if not first <= day <= last:
            continue
        for service_id, stats in by_service.items():
            base = stats_base(stats)
            agg.tally("service", service_id).add(base)
            agg.tally("day", day).add(base)
            for breakdown in ("counter", "clerk", "hour"):
                for key, part in stats.by[breakdown].items():
                    agg.tally(breakdown, key).add(part)
    return agg


def finish(agg: Aggregate, first: date, last: date) -> None:
    """Every day and weekday of the range gets a row; weekdays and the total are sums of sums (fewer and smaller
    merges than adding every day's rows to them as well)."""
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        agg.tally("day", day)
        agg.tally("weekday", day.isoweekday())
    for day, tally in agg.groups["day"].items():
        agg.tally("weekday", day.isoweekday()).add(tally)
    for tally in agg.groups["service"].values():
        agg.total.add(tally)


def stats_base(stats: DayStats) -> Tally:
    """The service-level tally of a day's statistics, without its breakdowns."""
    return Tally(counts=stats.counts, refusals=stats.refusals, waits=stats.waits, walks=stats.walks,
                 services=stats.services, within_target=stats.within_target, targeted=stats.targeted)


def office_kpis(session, office: Office, first: date, last: date, by: str = "service",
                lang: str | None = None) -> dict:
    """KPIs of `first` to `last` (office-local dates) as JSON: rows of the breakdown `by`, and the total."""
    return render(session, office, first, last, compute(session, office, first, last), (by,), lang)[by]


def compute(session, office: Office, first: date, last: date) -> Aggregate:
    """All breakdowns of the range: the stored days' aggregate (kept per process, see the module docstring) plus
    the days read from the events."""
    services = _services(session, office)
    stored_days, stored = _stored(session, office, first, last)
    agg = Aggregate()
    agg.add(stored)
    purged = office.details_purged_before
    start = max(first, purged) if purged else first
    missing = [d for d in (start + timedelta(days=i) for i in range((last - start).days + 1)) if d not in stored_days]
    targets = {sid: s.target_wait_minutes for sid, s in services.items()}
    for run_first, run_last in runs(missing):
        accumulate(from_events(session, office, run_first, run_last, targets), first, last, agg)
    finish(agg, first, last)
    return agg


STORED_CACHE_SIZE = 64  # aggregates of stored days per database (a few hundred KiB each at most)
_stored_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> OrderedDict(key -> Aggregate)
_stored_lock = threading.Lock()
# The stored data's size in the fingerprint: a row rewritten in place (by hand, or within one clock tick) still shows.
_SIZE = func.length(cast(DailyStats.data, Text))


def forget_stored() -> None:
    """Drop every process-local aggregate of stored days (after this process rewrote rows: rebuild, retention)."""
    with _stored_lock:
        _stored_cache.clear()


def _stored(session, office: Office, first: date, last: date) -> tuple[set[date], Aggregate]:
    """The days of the range that have daily_stats rows, and their aggregate (not finished; never modified)."""
    fingerprint = tuple(tuple(row) for row in session.execute(
        select(DailyStats.day, func.count(), func.max(DailyStats.created_at), func.sum(_SIZE))
        .where(DailyStats.office_id == office.id, DailyStats.day >= first, DailyStats.day <= last)
        .group_by(DailyStats.day).order_by(DailyStats.day)).all())
    days = {row[0] for row in fingerprint}
    if not days:
        return days, Aggregate()
    engine, key = session.get_bind(), (office.id, first, last, fingerprint)
    with _stored_lock:
        cache = _stored_cache.setdefault(engine, OrderedDict())
        if key in cache:
            cache.move_to_end(key)
            return days, cache[key]
    # Read with their created_at, so the aggregate is keyed by the rows it was made of, even if rows were
    # written since the fingerprint was read (PostgreSQL reads at READ COMMITTED).
    rows = session.execute(select(DailyStats.day, DailyStats.service_id, DailyStats.data, DailyStats.created_at,
                                  _SIZE).where(DailyStats.office_id == office.id, DailyStats.day >= first,
                                               DailyStats.day <= last)).all()
    stored: Days = {}
    read: dict[date, list] = {}  # day -> [rows, newest created_at, size of the data]
    for day, service_id, data, created_at, size in rows:
        stored.setdefault(day, {})[service_id] = DayStats.from_data(data)
        mark = read.setdefault(day, [0, created_at, 0])
        mark[0], mark[1], mark[2] = mark[0] + 1, max(mark[1], created_at), mark[2] + size
    key = (office.id, first, last, tuple((day, *mark) for day, mark in sorted(read.items())))
    agg = accumulate(stored, first, last)
    with _stored_lock:
        cache[key] = agg
        while len(cache) > STORED_CACHE_SIZE:
            cache.popitem(last=False)
    return set(stored), agg


def render(session, office: Office, first: date, last: date, agg: Aggregate, dimensions, lang=None) -> dict:
    """{dimension: the JSON of that breakdown} for the given dimensions of one aggregate."""
    labels = Labels(session, office, lang)
    purged = office.details_purged_before
    aggregated = max(0, (min(last, purged - timedelta(days=1)) - first).days + 1) if purged else 0
    out = {}
    for dimension in dimensions:
        rows = [_row(key, label, agg.groups[dimension].get(group_key) or Tally())
                for key, label, group_key in labels.keys(dimension, agg.groups[dimension])]
        kpis = {"office": office.slug, "from": first.isoformat(), "to": last.isoformat(), "by": dimension,
                "rows": rows, "total": _row(None, office.name, agg.total), "aggregated_days": aggregated}
        if dimension == "service":  # the shape from before breakdowns existed: rows named by "service"
            kpis["services"] = [{"service": row["key"], **row} for row in rows]
            kpis["rows"] = kpis["services"]
            kpis["total"] = {"service": None, **kpis["total"]}
        out[dimension] = kpis
    return out


class Labels:
    """Row keys of each breakdown, in display order, with their labels."""

    def __init__(self, session, office: Office, lang: str | None):
        self.session, self.office, self.lang = session, office, lang or office.language

    def keys(self, dimension: str, group: dict) -> list[tuple]:
        return getattr(self, f"_{dimension}")(group)

    def _service(self, group):
        services = _services(self.session, self.office).values()
        return [(s.slug, s.names.get(self.lang) or next(iter(s.names.values()), s.slug), s.id) for s in services]

    def _counter(self, group):
        counters = self.session.scalars(select(CounterRow).where(CounterRow.office_id == self.office.id)
                                        .order_by(CounterRow.sort_order, CounterRow.id)).all()
        keys = [(c.slug, c.name, str(c.id)) for c in counters if str(c.id) in group]
        return keys + ([(NONE, None, NONE)] if NONE in group else [])

    def _clerk(self, group):
        ids = [int(k) for k in group if k != NONE]
        names = dict(self.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
        keys = sorted(((names.get(i, f"#{i}"), str(i)) for i in ids), key=lambda pair: pair[0].casefold())
        return [(name, name, key) for name, key in keys] + ([(NONE, None, NONE)] if NONE in group else [])

    def _hour(self, group):
        return [(int(h), f"{int(h):02d}:00", h) for h in sorted(group, key=int)]

    def _weekday(self, group):
        return [(d, WEEKDAYS[d - 1], d) for d in sorted(group)]

    def _day(self, group):
        return [(d.isoformat(), d.isoformat(), d) for d in sorted(group)]


def _services(session, office: Office) -> dict[int, Service]:
    return {s.id: s for s in session.scalars(select(Service).where(Service.office_id == office.id)
                                             .order_by(Service.sort_order, Service.id))}


def _row(key, label, tally: Tally) -> dict:
    return {"key": key, "label": label, **{k: tally.counts.get(k, 0) for k in COUNTED.values()},
           "refusals": {reason: tally.refusals.get(reason, 0) for reason in (*REFUSALS, *sorted(
               set(tally.refusals) - set(REFUSALS)))},
           "wait_minutes": summary(tally.waits), "walk_minutes": summary(tally.walks),
           "service_minutes": summary(tally.services),
           "service_level": round(100 * tally.within_target / tally.targeted, 1) if tally.targeted else None}


def summary(histogram: Counter) -> dict:
    """n, mean, median, p90 and max in minutes of a histogram of whole seconds."""
    n = sum(histogram.values())
    if not n:
        return {"n": 0, "mean": None, "median": None, "p90": None, "max": None}
    seconds = sorted(histogram)
    p90_rank = min(n - 1, int(round(0.9 * (n - 1))))
    wanted = sorted({(n - 1) // 2, n // 2, p90_rank})
    at, seen, total, i = {}, 0, 0, 0
    for s in seconds:
        count = histogram[s]
        total += s * count
        seen += count
        while i < len(wanted) and wanted[i] < seen:  # the ranks this second covers
            at[wanted[i]] = s
            i += 1
    median = (at[(n - 1) // 2] + at[n // 2]) / 2
    return {"n": n, "mean": _minutes(total / n), "median": _minutes(median), "p90": _minutes(at[p90_rank]),
            "max": _minutes(seconds[-1])}


def _minutes(seconds: float) -> float:
    return round(seconds / 60, 2)

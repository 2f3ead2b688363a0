"""KPIs per service: counts, and wait, walk and service times, from the event log and, for days whose ticket
details retention has deleted, from their aggregated daily statistics."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

from sqlalchemy import select

from server.db.models import Office, Service

from .daily import COUNTED, Days, DayStats, from_events, from_rows


def _summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "mean": None, "median": None, "p90": None, "max": None}
    minutes = sorted(v / 60 for v in values)
    p90 = minutes[min(len(minutes) - 1, int(round(0.9 * (len(minutes) - 1))))]
    return {"n": len(minutes), "mean": round(statistics.fmean(minutes), 2),
            "median": round(statistics.median(minutes), 2), "p90": round(p90, 2), "max": round(minutes[-1], 2)}


def office_kpis(session, office: Office, first: date, last: date) -> dict:
    """KPIs of tickets issued from `first` to `last` (office-local dates), per service and in total.

    Days before office.details_purged_before come from daily_stats (a missing row is a day without tickets),
    the others from the event log."""
    services = {s.id: s for s in session.scalars(select(Service).where(Service.office_id == office.id))}
    purged = office.details_purged_before
    days: Days = {}
    if purged and first < purged:
        days |= from_rows(session, office, first, min(last, purged - timedelta(days=1)))
    if not purged or last >= purged:
        targets = {sid: s.target_wait_minutes for sid, s in services.items()}
        days |= from_events(session, office, max(first, purged or first), last, targets)
    per = {sid: DayStats() for sid in services}
    for by_service in days.values():
        for sid, stats in by_service.items():
            if sid in per:
                per[sid].add(stats)
    total = DayStats()
    for stats in per.values():
        total.add(stats)
    aggregated = max(0, ((min(last, purged - timedelta(days=1)) - first).days + 1)) if purged else 0
    return {"office": office.slug, "from": first.isoformat(), "to": last.isoformat(),
            "services": [_row(services[sid].slug, stats) for sid, stats in per.items()],
            "total": _row(None, total), "aggregated_days": aggregated}


def _row(slug: str | None, stats: DayStats) -> dict:
    called = len(stats.waits)
    return {"service": slug, **{k: stats.counts.get(k, 0) for k in COUNTED.values()},
            "wait_minutes": _summary(stats.waits), "walk_minutes": _summary(stats.walks),
            "service_minutes": _summary(stats.services),
            "service_level": round(100 * stats.within_target / called, 1) if called else None}


CSV_COLUMNS = ["service", *COUNTED.values(), "wait_mean", "wait_median", "wait_p90", "wait_max",
               "walk_mean", "service_mean", "service_median", "service_level"]


def csv_rows(kpis: dict) -> list[list]:
    rows = [CSV_COLUMNS]
    for row in [*kpis["services"], {**kpis["total"], "service": "total"}]:
        w, k, s = row["wait_minutes"], row["walk_minutes"], row["service_minutes"]
        rows.append([row["service"], *(row[c] for c in COUNTED.values()), w["mean"], w["median"], w["p90"],
                     w["max"], k["mean"], s["mean"], s["median"], row["service_level"]])
    return rows

"""KPIs per service from the event log: counts, and wait, walk and service times."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server.db.models import Event, Office, Service

COUNTED = {"issued": "issued", "finished": "served", "no_show": "no_show", "cancelled": "cancelled",
           "transferred": "transferred", "refused": "refused", "recalled": "recalled"}
TICKET_KINDS = ("issued", "called", "started", "finished")


@dataclass
class _Acc:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED.values(), 0))
    waits: list[float] = field(default_factory=list)
    walks: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    within_target: int = 0


def day_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants from the start of `first` to the end of `last`, in the office's time zone."""
    start = datetime.combine(first, time.min, tz).astimezone(timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time.min, tz).astimezone(timezone.utc)
    return start, end


def _summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "mean": None, "median": None, "p90": None, "max": None}
    minutes = sorted(v / 60 for v in values)
    p90 = minutes[min(len(minutes) - 1, int(round(0.9 * (len(minutes) - 1))))]
    return {"n": len(minutes), "mean": round(statistics.fmean(minutes), 2),
            "median": round(statistics.median(minutes), 2), "p90": round(p90, 2), "max": round(minutes[-1], 2)}


def office_kpis(session, office: Office, first: date, last: date) -> dict:
    """KPIs of tickets issued from `first` to `last` (office-local dates), per service and in total."""
    start, end = day_bounds(first, last, ZoneInfo(office.timezone))
    events = session.execute(
        select(Event.kind, Event.at, Event.ticket_id, Event.service_id)
        .where(Event.office_id == office.id, Event.at >= start, Event.at < end)
        .order_by(Event.seq)
    ).all()
    services = {s.id: s for s in session.scalars(select(Service).where(Service.office_id == office.id))}
    per: dict[int, _Acc] = {sid: _Acc() for sid in services}
    firsts: dict[int, dict[str, datetime]] = {}
    issued_service: dict[int, int] = {}
    for kind, at, ticket_id, service_id in events:
        if kind in COUNTED and service_id in per:
            per[service_id].counts[COUNTED[kind]] += 1
        if ticket_id is None:
            continue
        if kind == "issued":
            issued_service[ticket_id] = service_id
        marks = firsts.setdefault(ticket_id, {})
        if kind in TICKET_KINDS and kind not in marks:
            marks[kind] = at
        if kind in ("called", "recalled") and "started" not in marks:
            marks["last_called"] = at
    for ticket_id, marks in firsts.items():
        sid = issued_service.get(ticket_id)
        if sid is None or "issued" not in marks:
            continue  # issued before the range: its times belong to the day it was issued
        _add_times(per[sid], marks, services[sid].target_wait_minutes)
    rows = [_row(services[sid].slug, acc) for sid, acc in per.items()]
    total = _Acc()
    for acc in per.values():
        for k, v in acc.counts.items():
            total.counts[k] += v
        total.waits += acc.waits
        total.walks += acc.walks
        total.services += acc.services
        total.within_target += acc.within_target
    return {"office": office.slug, "from": first.isoformat(), "to": last.isoformat(),
            "services": rows, "total": _row(None, total)}


def _add_times(acc: _Acc, marks: dict, target_minutes: int | None) -> None:
    if "called" in marks:
        wait = (marks["called"] - marks["issued"]).total_seconds()
        acc.waits.append(wait)
        if target_minutes and wait <= target_minutes * 60:
            acc.within_target += 1
    if "started" in marks and "called" in marks:
        acc.walks.append((marks["started"] - marks.get("last_called", marks["called"])).total_seconds())
    if "finished" in marks and "started" in marks:
        acc.services.append((marks["finished"] - marks["started"]).total_seconds())


def _row(slug: str | None, acc: _Acc) -> dict:
    called = len(acc.waits)
    return {"service": slug, **acc.counts, "wait_minutes": _summary(acc.waits),
            "walk_minutes": _summary(acc.walks), "service_minutes": _summary(acc.services),
            "service_level": round(100 * acc.within_target / called, 1) if called else None}


CSV_COLUMNS = ["service", *COUNTED.values(), "wait_mean", "wait_median", "wait_p90", "wait_max",
               "walk_mean", "service_mean", "service_median", "service_level"]


def csv_rows(kpis: dict) -> list[list]:
    rows = [CSV_COLUMNS]
    for row in [*kpis["services"], {**kpis["total"], "service": "total"}]:
        w, k, s = row["wait_minutes"], row["walk_minutes"], row["service_minutes"]
        rows.append([row["service"], *(row[c] for c in COUNTED.values()), w["mean"], w["median"], w["p90"],
                     w["max"], k["mean"], s["mean"], s["median"], row["service_level"]])
    return rows

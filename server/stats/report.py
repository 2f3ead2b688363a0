"""The statistics use case behind the API and the statistics page: check the range, cache the closed days it
covers, then read every breakdown asked for in one pass."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from server.queue.numbering import service_day
from server.services.errors import Invalid
from server.services.lookup import office_by_slug

from . import rollup
from .kpis import DIMENSIONS, compute, render

MAX_SPAN_DAYS = 366


def office_stats(ctx, actor, office: str, first: date | None, last: date | None,
                 dimensions: tuple[str, ...] = ("service",), lang: str | None = None) -> dict[str, dict]:
    """{dimension: KPIs} of an office from `first` to `last` (office-local dates, inclusive; default today)."""
    for dimension in dimensions:
        if dimension not in DIMENSIONS:
            raise Invalid(f"unknown breakdown '{dimension}' (one of: {', '.join(DIMENSIONS)})", "invalid_breakdown")
    with ctx.db.read_session() as session:
        row = office_by_slug(session, office, actor)
        office_id, tz = row.id, ZoneInfo(row.timezone)
    first, last = check_range(first, last, service_day(ctx.clock(), tz))
    rollup.ensure(ctx, office_id, first, last)
    with ctx.db.read_session() as session:
        row = office_by_slug(session, office, actor)
        return render(session, row, first, last, compute(session, row, first, last), dimensions, lang)


def check_range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    first, last = first or last or today, last or first or today
    if first > last:
        raise Invalid("'from' must not be after 'to'", "invalid_range")
    if (last - first).days > MAX_SPAN_DAYS:
        raise Invalid(f"the range may span at most {MAX_SPAN_DAYS} days", "invalid_range")
    return first, last

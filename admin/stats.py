"""The statistics page: KPIs of a date range as a table by a chosen breakdown, three charts, CSV/XLSX downloads."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required

from server.api.schemas import parse_day
from server.auth import roles
from server.services.errors import ServiceError
from server.stats.charts import bar_chart
from server.stats.kpis import DIMENSIONS
from server.stats.report import office_stats
from server.web.i18n import weekday_names

from . import bp
from .views import _actor, _office


def breakdown_names() -> dict[str, str]:
    return {"service": _("Service"), "counter": _("Counter"), "clerk": _("Clerk"), "hour": _("Hour of day"),
            "weekday": _("Weekday"), "day": _("Day")}


@bp.get("/<office>/stats")
@login_required
def stats(office: str):
    """KPIs of an office for a date range (default today) by a breakdown, with charts and downloads."""
    current, actor = _office(office), _actor()
    if actor.role not in roles.READ_STATS:
        abort(403)
    by = request.args.get("by") or "service"
    errors: dict[str, str] = {}
    first, last = _day("from", errors), _day("to", errors)
    if by not in DIMENSIONS:
        errors["by"], by = _("Choose one of the listed breakdowns."), "service"
    kpis = None
    if not errors:
        try:
            kpis = office_stats(current_app.extensions["civicqueue"], actor, office, first, last,
                                tuple(dict.fromkeys((by, "hour", "day", "service"))), str(get_locale()))
        except ServiceError as exc:
            if exc.status in (403, 404):
                abort(exc.status)
            errors["to"] = _("“From” must not be after “To”, and the range may span at most 366 days.")
    return render_template("admin/stats.html", office=current, section="stats", by=by, kpis=kpis, errors=errors,
                           args=request.args, names=breakdown_names(), charts=_charts(kpis) if kpis else [],
                           label=_label, downloads=_downloads(office, kpis, by) if kpis else {}), (
        400 if errors else 200)


def _day(name: str, errors: dict) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return parse_day(value)
    except ValueError:
        errors[name] = _("Enter a date like 2026-11-26.")
        return None


def _label(dimension: str, row: dict) -> str:
    if dimension == "weekday":
        return weekday_names()[row["key"] - 1]
    if row["label"] is None:
        return _("none (kiosk or no counter)") if dimension == "counter" else _("none (kiosk or device)")
    return str(row["label"])


def _downloads(office: str, kpis: dict, by: str) -> dict[str, str]:
    some = kpis[by]
    query = {"from": some["from"], "to": some["to"], "by": by, "lang": str(get_locale())}
    return {"csv": url_for("api.stats", office=office, format="csv", **query),
            "xlsx": url_for("api.stats", office=office, format="xlsx", **query),
            "xlsx_all": url_for("api.stats", office=office, format="xlsx", **(query | {"by": "all"}))}


def _charts(kpis: dict) -> list:
    hours = [(row["label"], row["wait_minutes"]["mean"]) for row in kpis["hour"]["rows"]]
    days = [(row["label"], row["served"]) for row in kpis["day"]["rows"]]
    levels = [(row["label"] or row["key"], row["service_level"]) for row in kpis["service"]["rows"]]
    charts = [
        ("chart-wait-hour", _("Mean wait by hour of day (minutes)"),
         _("Mean wait in minutes of the tickets drawn in each hour; the same numbers are in the table by hour of day."),
         hours, _(" min"), None),
        ("chart-served-day", _("Served per day"),
         _("Tickets served on each day of the range; the same numbers are in the table by day."), days, "", None),
        ("chart-level-service", _("Service level per service (%)"),
         _("Share of tickets called within their service's target wait; – for a service without a target or "
           "without calls."), levels, " %", 100),
    ]
    return [(title, bar_chart(cid, title, desc, bars, unit, top)) for cid, title, desc, bars, unit, top in charts]

"""Statistics over the API: KPIs of an office as JSON, CSV or XLSX, broken down as asked."""

from __future__ import annotations

from flask import Response, jsonify, request

from server.auth import roles
from server.services.errors import Invalid
from server.stats.export import XLSX_TYPE, to_csv, to_xlsx
from server.stats.kpis import DIMENSIONS
from server.stats.report import office_stats

from . import api
from .auth import current_actor, requires
from .context import context
from .schemas import date_arg

FORMATS = {"json": "application/json", "csv": "text/csv", "xlsx": XLSX_TYPE}


@api.get("/offices/<office>/stats")
@requires(*roles.READ_STATS)
def stats(office: str):
    """KPIs for a date range (office-local dates, inclusive) by service, counter, clerk, hour, weekday or day;
    CSV with Accept: text/csv, XLSX with its Accept type or ?format=xlsx (?by=all: one sheet per breakdown)."""
    first, last = date_arg("from"), date_arg("to")
    by, kind = request.args.get("by") or "service", _format()
    if by == "all" and kind != "xlsx":
        raise Invalid("by=all is only for XLSX (one sheet per breakdown)", "invalid_breakdown")
    dimensions = DIMENSIONS if by == "all" else (by,)
    kpis = office_stats(context(), current_actor(), office, first, last, dimensions, request.args.get("lang"))
    some = next(iter(kpis.values()))
    name = f"civicqueue-{office}-{some['from']}-{some['to']}" + ("" if by == "service" else f"-{by}")
    if kind == "csv":
        return _download(to_csv(kpis[by]), "text/csv", f"{name}.csv")
    if kind == "xlsx":
        return _download(to_xlsx(list(kpis.values())), XLSX_TYPE, f"{name}.xlsx")
    return jsonify(kpis[by])


def _format() -> str:
    wanted = request.args.get("format")
    if wanted:
        if wanted not in FORMATS:
            raise Invalid(f"unknown format '{wanted}' (one of: {', '.join(FORMATS)})", "invalid_format")
        return wanted
    best = request.accept_mimetypes.best_match(list(FORMATS.values()))
    return next((key for key, mime in FORMATS.items() if mime == best), "json")


def _download(body, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})

"""The audit log over the API: supervisors read their offices' entries, admins every entry; JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import re

from flask import Response, jsonify, request, url_for

from server.auth import roles
from server.services import audit_reads
from server.services.errors import Invalid

from . import api
from .auth import current_actor, requires
from .context import context
from .schemas import date_arg

CSV_COLUMNS = ("at", "actor", "role", "office", "action", "target", "ip", "details")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ACTION_PREFIX = re.compile(r"[a-z0-9_.]{1,64}")
DIGITS = re.compile(r"[0-9]{1,19}")
MAX_ID = 2**63 - 1  # audit ids are 64-bit


@api.get("/audit")
@requires(*roles.READ_AUDIT)
def audit_log():
    """Audit entries, newest first (?office=&user=&action=&from=&to=&limit=&before=); CSV with Accept: text/csv."""
    page = audit_reads.list_entries(context(), current_actor(), **_filters())
    if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
        return _csv(page)
    return jsonify(page)


def _filters() -> dict:
    first, last = date_arg("from"), date_arg("to")
    if first and last and first > last:
        raise Invalid("'from' must not be after 'to'", "invalid_range")
    return {"office": _text("office", 64), "user": _text("user", 100), "action": _action(), "date_from": first,
            "date_to": last, "limit": _number("limit", 1, 500) or 100, "before_id": _number("before", 1, MAX_ID)}


def _text(name: str, longest: int) -> str | None:
    value = request.args.get(name) or None
    if value is not None and len(value) > longest:
        raise Invalid(f"'{name}' may have at most {longest} characters", f"invalid_{name}")
    return value


def _action() -> str | None:
    value = request.args.get("action") or None
    if value is not None and not ACTION_PREFIX.fullmatch(value):
        raise Invalid("'action' must be an action name or its start, like 'ticket.' or 'counter.open'",
                      "invalid_action")
    return value


def _number(name: str, low: int, high: int) -> int | None:
    raw = request.args.get(name) or None
    if raw is None:
        return None
    if not DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise Invalid(f"'{name}' must be a whole number from {low} to {high}", f"invalid_{name}")
    return int(raw)


def _csv(page: dict) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(entry) for entry in page["entries"])
    headers = {"Content-Disposition": 'attachment; filename="civicqueue-audit.csv"'}
    if page["next_before"] is not None:  # the CSV has no ids: the next page's address comes as a header
        query = request.args.to_dict() | {"before": page["next_before"]}
        headers["Link"] = f'<{url_for("api.audit_log", **query)}>; rel="next"'
    return Response(out.getvalue(), mimetype="text/csv", headers=headers)


def csv_row(entry: dict) -> list[str]:
    details = json.dumps(entry["details"], ensure_ascii=False, sort_keys=True)
    return [_cell(entry[column]) for column in CSV_COLUMNS[:-1]] + [details]


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts like a formula: an actor named "=HYPERLINK(...)" must stay text.
    return "'" + text if text.startswith(FORMULA_STARTS) else text

"""Pages of the admin client: the office pick list, the devices page and the audit log."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, get_flashed_messages, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from server.api.schemas import parse_day
from server.auth import roles
from server.db.models import Office
from server.services import audit_reads, issuing_control, queries
from server.services.audit import record as audit_record
from server.services.errors import ServiceError
from server.web.i18n import printer_status_words

from . import bp

ADMIN_ROLES = roles.READ_AUDIT  # supervisors read, admins also change
ACTION_PREFIX = re.compile(r"[a-z0-9_.]{1,64}")
PAGE_SIZE = 50


def _actor():
    """The signed-in staff member as an actor; only supervisors and admins get in."""
    actor = current_user.actor()
    if actor.role not in ADMIN_ROLES:
        abort(403)
    return actor


def _read(query, *args, **kwargs):
    """Run a read use case for the signed-in user; its 403/404 become the page's status."""
    try:
        return query(current_app.extensions["civicqueue"], _actor(), *args, **kwargs)
    except ServiceError as exc:
        abort(exc.status if exc.status in (403, 404) else 400)


def _office(slug: str) -> dict:
    """The office of the page, if the signed-in user may see it."""
    office = next((o for o in _read(queries.list_offices) if o["slug"] == slug), None)
    if office is None:
        abort(404)
    return office


@bp.get("/")
@login_required
def index():
    """The offices of the signed-in user; with only one, straight on to its live dashboard."""
    offices = _read(queries.list_offices)
    if len(offices) == 1:
        return redirect(url_for("admin.dashboard", office=offices[0]["slug"]))
    return render_template("admin/offices.html", offices=offices)


@bp.get("/<office>/devices")
@login_required
def devices(office: str):
    """An office's kiosks and displays; admins add devices, make pairing codes and revoke devices here."""
    current = _office(office)
    config = {"office": office, "timezone": current["timezone"], "lang": str(get_locale()),
              "canChange": current_user.role in roles.CONFIGURE, "strings": device_strings()}
    return render_template("admin/devices.html", office=current, config=config, section="devices")


@bp.get("/<office>/audit")
@login_required
def audit(office: str):
    """The audit log of an office, newest first, filtered by a GET form and paged by id."""
    current = _office(office)
    filters, error = _audit_filters()
    page = {"entries": [], "next_before": None}
    if error is None:
        page = _read(audit_reads.list_entries, office=office, limit=PAGE_SIZE, **filters)
    zone = ZoneInfo(current["timezone"])
    for entry in page["entries"]:
        entry["local"] = datetime.fromisoformat(entry["at"]).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        entry["status"] = (entry["details"] or {}).get("status", "")
    older = None
    if page["next_before"] is not None:
        older = url_for("admin.audit", office=office, **(request.args.to_dict() | {"before": page["next_before"]}))
    return render_template("admin/audit.html", office=current, page=page, error=error, older=older,
                           args=request.args, section="audit"), 400 if error else 200


@bp.get("/<office>/issuing")
@login_required
def issuing(office: str):
    """The supervisor's switch: stop or resume ticket issue for the office or a single service."""
    current = _office(office)
    with current_app.extensions["civicqueue"].db.read_session() as session:
        row = session.scalars(select(Office).where(Office.slug == office)).one()
        lang = str(get_locale())
        services = [{"slug": s.slug, "prefix": s.prefix, "name": s.name_in(lang, row.language), "open": s.issuing}
                    for s in row.services if s.active]
        office_open = row.issuing
    return render_template("admin/issuing.html", office=current, services=services, office_open=office_open,
                           done=get_flashed_messages(), section="issuing")


@bp.post("/<office>/issuing")
@login_required
def switch_issuing(office: str):
    """One switch from the form (then back to the page): `target` is "office" or a service slug."""
    from flask_wtf.csrf import CSRFError, validate_csrf
    from wtforms import ValidationError

    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        abort(400)
    actor, ctx = _actor(), current_app.extensions["civicqueue"]
    if actor.role not in roles.STOP_ISSUE:
        abort(403)
    target, open_ = request.form.get("target", ""), request.form.get("open") == "1"
    try:
        if target == "office":
            result = issuing_control.set_office_issuing(ctx, actor, office, open_)
        else:
            result = issuing_control.set_service_issuing(ctx, actor, office, target, open_)
    except ServiceError as exc:
        abort(exc.status if exc.status in (403, 404) else 400)
    audit_record(ctx, actor, f"{'office' if target == 'office' else 'service'}.issuing", target=f"{office}/{target}",
                 details={"open": open_, "page": True}, ip=request.remote_addr)
    flash(_("%(name)s: tickets are issued again.", name=result["name"]) if open_ else
          _("%(name)s: no more tickets today.", name=result["name"]))
    return redirect(url_for("admin.issuing", office=office))


def _audit_filters() -> tuple[dict, str | None]:
    """The filters of the audit form, or the reason they are not valid."""
    args = request.args
    action, user = args.get("action") or None, (args.get("user") or "").strip()[:100] or None
    if action is not None and not ACTION_PREFIX.fullmatch(action):
        return {}, _("An action is a name or its start, like “ticket.” or “device.revoke”.")
    try:
        first, last = (parse_day(args[k]) if args.get(k) else None for k in ("from", "to"))
        before = int(args["before"]) if args.get("before") else None
    except ValueError:
        return {}, _("Please enter dates like 2026-11-26.")
    if before is not None and not 1 <= before < 2**63:
        before = None
    if first and last and first > last:
        return {}, _("The first day must not be after the last day.")
    return {"action": action, "user": user, "date_from": first, "date_to": last, "before_id": before}, None


def device_strings() -> dict[str, str]:
    """The texts of devices.js; {name}, {code}, {message} are filled in there."""
    return {
        "kiosk": _("Kiosk"),
        "display": _("Display"),
        "never": _("never"),
        "connected": _("connected"),
        "not_connected": _("not connected"),
        "no_agent": _("no printer agent"),
        "no_printer": _("no printer"),
        "no_job": _("no print job yet"),
        "job_line": _("Last job {code}: {state}"),
        "new_code": _("New pairing code"),
        "revoke": _("Revoke"),
        "added": _("{name} was added. Pair it with this code:"),
        "new_code_for": _("New pairing code for {name}:"),
        "revoked": _("{name} was revoked: it is disconnected and must be paired again."),
        "error": _("That did not work: {message}"),
        "qr_alt": _("QR code to pair {name}"),
        **printer_status_words(),
    }

"""Pages of the counter client: the office and counter pick lists, and the working page."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from server.auth import roles
from server.services import queries
from server.services.errors import ServiceError

from . import bp
from .strings import js_strings, printer_strings


def _actor():
    """The signed-in staff member as an actor; only roles that may work a counter get in."""
    actor = current_user.actor()
    if actor.role not in roles.WORK_COUNTER:
        abort(403)
    return actor


def _read(query, *args):
    """Run a read use case for the signed-in user; its 403/404 become the page's status."""
    try:
        return query(current_app.extensions["civicqueue"], _actor(), *args)
    except ServiceError as exc:
        abort(exc.status if exc.status in (403, 404) else 400)


@bp.get("/")
@login_required
def index():
    """The offices of the signed-in user; with only one, straight on to its counters."""
    offices = _read(queries.list_offices)
    if len(offices) == 1:
        return redirect(url_for("counter.office", office=offices[0]["slug"]))
    return render_template("counter/offices.html", offices=offices)


@bp.get("/<office>/")
@login_required
def office(office: str):
    """An office's counters with their state, to pick the one to work at."""
    offices = _read(queries.list_offices)
    counters = _read(queries.list_counters, office)
    services = {s["slug"]: s["name"] for s in _read(queries.list_services, office, str(get_locale()))}
    current = next((o for o in offices if o["slug"] == office), None)
    if current is None:
        abort(404)
    for c in counters:
        c["service_names"] = [services.get(s, s) for s in c["services"]]
    return render_template("counter/counters.html", office=current, counters=counters,
                           several_offices=len(offices) > 1)


@bp.get("/<office>/<counter>")
@login_required
def work(office: str, counter: str):
    """The working page of one counter: current ticket, actions, live queue and parked tickets."""
    offices = {o["slug"]: o for o in _read(queries.list_offices)}
    counters = _read(queries.list_counters, office)
    me = next((c for c in counters if c["slug"] == counter), None)
    if me is None or office not in offices:
        abort(404)
    services = [s for s in _read(queries.list_services, office, str(get_locale())) if s["active"]]
    config = {"office": office, "counter": counter, "lang": str(get_locale()),
              "officeLanguage": offices[office]["language"], "strings": js_strings() | printer_strings()}
    return render_template("counter/work.html", office=offices[office], counter=me, services=services,
                           counters=[c for c in counters if c["slug"] != counter], config=config)

"""The live supervisor dashboard: a page whose data all comes pushed over the /supervisor namespace."""

from __future__ import annotations

from flask import abort, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required

from server.auth import roles
from server.web.i18n import estimate_words

from . import bp
from .views import _actor, _office

NEAR_TARGET = 0.75  # a longest wait at 75 % of the target turns the service yellow


@bp.get("/<office>/dashboard")
@login_required
def dashboard(office: str):
    """Per service the queue against its target, per counter its clerk and ticket; an alert past a target."""
    if _actor().role not in roles.READ_STATS:
        abort(403)
    current = _office(office)
    now = current_app.extensions["civicqueue"].clock()
    config = {"office": office, "timezone": current["timezone"], "lang": str(get_locale()),
              "officeLanguage": current["language"], "serverTime": int(now.timestamp() * 1000),
              "nearTarget": NEAR_TARGET, "strings": dashboard_strings()}
    return render_template("admin/dashboard.html", office=current, config=config, section="dashboard")


def dashboard_strings() -> dict[str, str]:
    """The texts of dashboard.js; {name}, {minutes}, {low}, {high}, {code}, {services}, {time} are filled in there."""
    return {
        "live": _("Live"),
        "connecting": _("Connecting…"),
        "offline": _("Connection lost – reconnecting…"),
        "resynced": _("Connected again: the dashboard is up to date."),
        "level_ok": _("On target"),
        "level_near": _("Near target"),
        "level_over": _("Over target"),
        "level_none": _("No target"),
        "level_empty": _("Nobody waiting"),
        "minutes": _("{minutes} min"),
        "range": _("{low}–{high} min"),
        "soon": estimate_words()["soon"],
        "of_target": _("of {minutes} min"),
        "no_target": _("no target"),
        "state_open": _("Open"),
        "state_paused": _("Paused"),
        "state_closed": _("Closed"),
        "ticket_called": _("called"),
        "ticket_serving": _("being served"),
        "ticket_line": _("{code} ({state})"),
        "no_ticket": _("no ticket"),
        "nobody": _("nobody"),
        "not_issuing": _("no tickets issued"),
        "no_counter_open": _("no counter open"),
        "cutoff_passed": _("{time} (passed)"),
        "cutoff_stops": _("issue ends automatically"),
        "cutoff_forecast": _("forecast only"),
        "over_banner": _("Waiting longer than the target:"),
        "over_announce": _("Wait over target: {services}"),
    }

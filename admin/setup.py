"""The admin's setup pages: the office (name, time zone, languages, opening hours, calling rules), its services and
counters.

The pages are thin: they render a JSON config (strings in the user's language, choices) and their modules in
admin/static/admin/ read and change everything through the REST API, so the API's validation is the only one.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

from flask import abort, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from server.auth import roles
from server.web.i18n import LANGUAGES, configured_languages, weekday_names
from server.web.pictograms import pictogram_choices

from . import bp
from .views import _office

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _admin_only() -> None:
    if current_user.role not in roles.CONFIGURE:
        abort(403)


@cache
def _timezones() -> list[str]:
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


def _languages() -> list[dict]:
    return [{"code": code, "name": LANGUAGES[code][0], "dir": LANGUAGES[code][1]} for code in configured_languages()]


def _config(office: dict, **extra) -> dict:
    return {"office": office["slug"], "lang": str(get_locale()), "languages": _languages(),
            "strings": setup_strings(), **extra}


@bp.get("/<office>/office")
@login_required
def office_settings(office: str):
    """Name, time zone, default and kiosk languages, opening hours and calling rules of an office."""
    _admin_only()
    current = _office(office)
    weekdays = dict(zip(WEEKDAYS, weekday_names(), strict=True))
    config = _config(current, weekdays=weekdays)
    return render_template("admin/office.html", office=current, config=config, timezones=_timezones(),
                           weekdays=weekdays, languages=_languages(), section="office")


@bp.get("/<office>/services")
@login_required
def services(office: str):
    """The office's services: add, change, order, activate and deactivate."""
    _admin_only()
    current = _office(office)
    config = _config(current, pictograms=pictogram_choices(),
                     defaultLanguage=current_app.config["QMS_DEFAULT_LANGUAGE"])
    return render_template("admin/services.html", office=current, config=config, section="services")


@bp.get("/<office>/counters")
@login_required
def counters(office: str):
    """The office's counters and the services each serves, in priority order."""
    _admin_only()
    current = _office(office)
    return render_template("admin/counters.html", office=current, config=_config(current), section="counters")


def setup_strings() -> dict[str, str]:
    """The texts of office.js, services.js and counters.js; {name}, {message} etc. are filled in there."""
    return {
        "saved": _("Saved. Kiosks and displays show the change now."),
        "added": _("{name} was added."),
        "error": _("That did not work: {message}"),
        "fix_fields": _("Please correct the marked fields."),
        "required": _("Please fill in this field."),
        "edit": _("Edit"),
        "edit_service": _("Edit service {name}"),
        "edit_counter": _("Edit counter {name}"),
        "new_service": _("Add a service"),
        "new_counter": _("Add a counter"),
        "up": _("Move up"),
        "down": _("Move down"),
        "move_up": _("Move {name} up"),
        "move_down": _("Move {name} down"),
        "activate": _("Activate"),
        "deactivate": _("Deactivate"),
        "active": _("active"),
        "inactive": _("inactive"),
        "issuing": _("tickets issued"),
        "not_issuing": _("no more tickets today"),
        "none": _("none"),
        "minutes": _("{n} min"),
        "no_pictogram": _("No pictogram"),
        "add_period": _("Add a period"),
        "remove_period": _("Remove"),
        "remove_period_of": _("Remove period {n} on {day}"),
        "closed_day": _("closed"),
        "from": _("from"),
        "to": _("to"),
        "order_saved": _("The order was saved; the kiosks show it now."),
        "activated": _("{name} is active again and shown on the kiosks."),
        "deactivated": _("{name} is deactivated and no longer shown on the kiosks."),
        "no_services": _("Choose at least one service."),
        "state_open": _("open"),
        "state_paused": _("paused"),
        "state_closed": _("closed"),
        # error codes the API gives, in the user's language (else the API's English message is shown)
        "code_clash": _("Another service already hands out these codes: choose another prefix or number range."),
        "has_tickets": _("This service still has open tickets. Stop its ticket issue first and deactivate it "
                         "when its queue is empty."),
        "already_exists": _("This name or short name is already taken."),
        "invalid_timezone": _("Unknown time zone: choose one from the list, such as Europe/Berlin."),
        "invalid_hours": _("Opening hours: each period must end after it starts, and periods must not overlap."),
        "invalid_language": _("The default language must be one of the kiosk languages."),
        "invalid_range": _("The first number must not be greater than the last."),
        "invalid_services": _("A service appears twice."),
        "invalid_pictogram": _("Choose a pictogram from the list."),
        "network": _("The server cannot be reached. Please try again."),
    }

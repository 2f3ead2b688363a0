"""Texts the kiosk and status scripts need, translated into the page's language by the template's view."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from server.web.i18n import estimate_words


def kiosk_strings() -> dict:
    """Placeholders in braces ({n}, {low}, {high}) are filled in by the script."""
    return {
        "waiting": _("Waiting: {n}"),
        **estimate_words(),
        "busy": _("One moment, please …"),
        "reasons": refusal_reasons(),
        "refused": _("We cannot give you a ticket for this service."),
        "print": print_strings(),
    }


def print_strings() -> dict:
    """What the ticket screen says about printing the ticket on it."""
    return {
        "pending": _("Your ticket is being printed …"),
        "printed": _("Please take your ticket."),
        "failed": _("The printer is not working. Please note your number or take a photo of the QR code."),
    }


def refusal_reasons() -> dict:
    """What a citizen reads on a service that takes no tickets, by the server's error code."""
    return {
        "service_closed": _("No more tickets today"),
        "office_closed": _("No more tickets today"),
        "daily_cap_reached": _("All of today's tickets are taken"),
        # After the cut-off forecast (offices that switch it on): they would not be served before closing.
        "cutoff": _("No more tickets today for {service}"),
        "number_range_exhausted": _("No tickets available at the moment"),
        "other": _("Please ask at the desk."),
    }


OUT_OF_ORDER = "Out of order – please ask at the desk."  # the msgid below, to spot a missing translation


def out_of_order_lines(languages: list[str]) -> list[tuple[str, str]]:
    """The out-of-order notice in several languages (page language, office language, English), no repeats."""
    lines: dict[str, str] = {}  # text -> language
    for code in languages:
        with force_locale(code):
            text = _("Out of order – please ask at the desk.")
        lines.setdefault(text, code if text != OUT_OF_ORDER else "en")  # untranslated: it is English
    return [(code, text) for text, code in lines.items()]


def status_strings() -> dict:
    """The status page's words for each ticket state, and its other texts."""
    return {
        "states": {
            "waiting": _("Please wait. You will be called."),
            "called": _("It is your turn! Please go to"),
            "serving": _("You are being served at"),
            "done": _("Done. Thank you for your visit."),
            "no_show": _("You missed your call. Please ask at the desk."),
            "cancelled": _("This ticket was cancelled."),
            "parked": _("Please wait. You will be called again soon."),
        },
        **estimate_words(),
        "calledTitle": _("Your turn: {code} – {counter}"),
    }

"""The texts the counter page's script shows, translated for the page's language."""

from __future__ import annotations

from flask_babel import gettext as _

from server.web.i18n import printer_status_words


def js_strings() -> dict[str, str]:
    """Every user-visible text of counter.js; {code}, {minutes}, {action}, {state} and {message} are filled in there."""
    return {
        "state_open": _("Open"),
        "state_paused": _("Paused"),
        "state_closed": _("Closed"),
        "ticket_called": _("Called"),
        "ticket_serving": _("Serving"),
        "no_ticket": _("No ticket at this counter"),
        "none_waiting": _("Nobody is waiting."),
        "minutes": _("{minutes} min"),
        "called_msg": _("{code} called."),
        "done_msg": _("{action}: {code}"),
        "counter_msg": _("The counter is now: {state}."),
        "error_msg": _("{action} did not work: {message}"),
        "network_error": _("The server could not be reached. Please check the connection and try again."),
        "resynced": _("The page now shows the current state from the server."),
        "live": _("Live"),
        "offline": _("Connection lost, reconnecting…"),
        "signed_out": _("You are signed out. Reload the page to sign in again."),
        "session_ended": _("The live connection was refused: {message}. Please sign in again."),
    }


def printer_strings() -> dict[str, str]:
    """The texts of printers.js: the printer banner and reprints; {device}, {status}, {code}, {message} filled there."""
    return {
        **printer_status_words(),
        "printer_line": _("Printer {device}: {status}"),
        "not_printed": _("{code} was not printed"),
        "reprint_sent": _("Reprint of {code} sent to {device}."),
        "reprint_printed": _("{code} was printed again on {device}."),
        "reprint_failed": _("Reprint of {code} failed: {message}"),
        "no_printer": _("No ticket printer in this office."),
    }

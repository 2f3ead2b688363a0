"""The citizen's phone page for one ticket (/t/<public token>): public, live from the /status namespace."""

from __future__ import annotations

from flask import current_app, g, render_template, request

from server.services.queries import ticket_status_in
from server.web.i18n import configured_languages, estimate_text

from .blueprint import bp
from .strings import status_strings


def _status(token: str) -> dict | None:
    ctx = current_app.extensions["civicqueue"]
    with ctx.db.read_session() as session:
        return ticket_status_in(session, token, ctx.clock())


@bp.get("/t/<token>")
def ticket_status(token: str):
    """Where the QR code leads: the ticket's number, state, position and estimate, in the ticket's language."""
    status = _status(token) if len(token) <= 100 else None
    if status is None:
        return render_template("kiosk/not_found.html", what="ticket"), 404
    if request.args.get("lang") not in configured_languages() and status["lang"] in configured_languages():
        g.lang = status["lang"]
    strings = status_strings()
    data = {"token": token, "status": status, "strings": strings}
    page = render_template("kiosk/status.html", status=status, data=data, strings=strings,
                           estimate=estimate_text(status.get("estimate")))
    return page, 200, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}

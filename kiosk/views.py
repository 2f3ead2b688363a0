"""The kiosk page: paired once with a device token, then a start screen fed live from the /kiosk namespace."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, g, render_template, request, url_for

from server.db.models import Office
from server.realtime.snapshots import kiosk_state
from server.web.devices import OfficeInfo, find_office, page_actor, remember_token
from server.web.i18n import configured_languages

from .blueprint import bp
from .strings import kiosk_strings, out_of_order_lines

KIOSK_ROLES = ("kiosk", "clerk", "supervisor", "admin")
DEFAULT_RETURN, MIN_RETURN, MAX_RETURN = 20, 3, 600


def _default_language(office: OfficeInfo) -> str:
    languages = configured_languages()
    return office.language if office.language in languages else current_app.config["QMS_DEFAULT_LANGUAGE"]


def _return_seconds() -> int:
    seconds = request.args.get("return", DEFAULT_RETURN, type=int)
    return min(max(seconds, MIN_RETURN), MAX_RETURN)


def _pair(token: str):
    """Keep the token in a cookie and reload without it, keeping the other parameters (?return=)."""
    response = remember_token(token)
    rest = {k: v for k, v in request.args.items() if k != "token"}
    if rest:
        response.location = f"{request.path}?{urlencode(rest)}"
    return response


@bp.get("/kiosk/<office>")
def kiosk(office: str):
    """The touch kiosk of one office; opened once as /kiosk/<office>?token=… to pair the device."""
    info = find_office(office)
    g.lang = _default_language(info) if info else current_app.config["QMS_DEFAULT_LANGUAGE"]
    if info is None:
        return render_template("kiosk/not_found.html", what="office", slug=office), 404
    token = request.args.get("token")
    actor = page_actor(token)
    if actor is None or actor.role not in KIOSK_ROLES or not actor.covers(info.id):
        return render_template("kiosk/unpaired.html", office=info, known=actor is not None), 401
    if token:
        return _pair(token)
    chosen = request.args.get("lang")
    if chosen in configured_languages() and (not info.languages or chosen in info.languages):
        g.lang = chosen
    return _start_page(info, _default_language(info))


def _start_page(info: OfficeInfo, default: str):
    """The page with its live data: the office's services now, and the texts the script needs."""
    ctx = current_app.extensions["civicqueue"]
    with ctx.db.snapshot_session() as session:
        office = session.get(Office, info.id)
        state = kiosk_state(session, office, ctx.clock())
    seconds = _return_seconds()
    keep = {"return": seconds} if "return" in request.args else {}
    offered = [c for c in configured_languages() if not info.languages or c in info.languages]
    languages = [default, *(c for c in offered if c != default)]
    data = {"office": info.slug, "lang": g.lang, "defaultLang": default, "state": state,
            "startUrl": url_for("kiosk.kiosk", office=info.slug, **keep), "strings": kiosk_strings()}
    page = render_template("kiosk/kiosk.html", office=info, data=data, return_seconds=seconds,
                           kiosk_languages=languages, keep=keep,
                           out_of_order=out_of_order_lines([g.lang, default, "en"]))
    return page, 200, {"Cache-Control": "no-store"}  # live data and a CSRF token: never from a cache

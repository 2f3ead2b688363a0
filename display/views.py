"""The display page: opened once with ?token=, then authenticated by the device cookie."""

from __future__ import annotations

from flask import current_app, g, render_template, request, url_for
from flask_babel import gettext as _

from server.announce import LANGUAGES as SPOKEN
from server.web.devices import OfficeInfo, device_actor, find_office, remember_token
from server.web.i18n import configured_languages, estimate_words

from . import bp
from .access import may_watch, viewer


def speech_languages() -> list[str]:
    """The configured languages the displays can speak."""
    return [lang for lang in configured_languages() if lang in SPOKEN]


@bp.get("/<office>")
def show(office: str):
    """The waiting-room screen of one office: calls, waiting counts and a clock, live over Socket.IO."""
    info = find_office(office)
    if info is None:
        return render_template("display/not_found.html", slug=office), 404
    token = request.args.get("token")
    if token is not None:
        if may_watch(device_actor(token), info.id):
            return remember_token(token)
        return _unpaired(info, bad_token=True)
    if not may_watch(viewer(), info.id):
        return _unpaired(info, bad_token=False)
    g.lang = info.language  # the screen speaks the office's language
    return render_template("display/display.html", office=info, page=_page_data(info))


def _unpaired(info: OfficeInfo, *, bad_token: bool):
    return render_template("display/unpaired.html", office=info, bad_token=bad_token,
                           base_url=request.host_url.rstrip("/")), 401


def _page_data(info: OfficeInfo) -> dict:
    """What the page's script needs, rendered into a JSON block (no inline script under the CSP)."""
    now = current_app.extensions["civicqueue"].clock()
    return {
        "office": info.slug, "language": info.language, "timezone": info.timezone,
        "serverTime": int(now.timestamp() * 1000), "speech": speech_languages(),
        "urls": {"gong": url_for("display.gong"), "call": url_for("display.call_audio", office=info.slug)},
        "strings": {"call": _("Number {code}, please go to {counter}"), "again": _("Called again"),
                    "estimatedWait": _("Estimated wait"), **estimate_words()},
    }

"""The gong and the spoken calls as WAV, for paired displays and signed-in staff."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from flask import Response, current_app, request

from server.announce import Announcer, AudioCache, EspeakSpeaker, SpeechUnavailable
from server.api.errors import error_response
from server.config import instance_dir
from server.services.lookup import counter_by_slug, office_by_slug

from . import bp
from .access import may_watch, viewer
from .views import speech_languages

log = logging.getLogger(__name__)
CODE = re.compile(r"[A-Z]{0,3}[0-9]{1,5}")
DAY = 86400


def announcer() -> Announcer:
    """One announcer per app, caching under $QMS_INSTANCE/audio."""
    extensions = current_app.extensions
    if "civicqueue_announcer" not in extensions:
        cache = AudioCache(instance_dir() / "audio")
        extensions.setdefault("civicqueue_announcer", Announcer(EspeakSpeaker(), cache))
    return extensions["civicqueue_announcer"]


def _unauthorized():
    return error_response(401, "unauthorized", "open this display's pairing link (?token=...) or sign in first")


@bp.get("/audio/gong.wav")
def gong():
    """The gong played before each call."""
    if not may_watch(viewer()):
        return _unauthorized()
    return _wav(announcer().gong_wav, DAY)


@bp.get("/<office>/audio/call.wav")
def call_audio(office: str):
    """One call spoken in one language: ?code=A042&counter=schalter-3&lang=de."""
    actor = viewer()
    if not may_watch(actor):
        return _unauthorized()
    code, counter, lang = (request.args.get(key, "") for key in ("code", "counter", "lang"))
    with current_app.extensions["civicqueue"].db.read_session() as session:
        office_row = office_by_slug(session, office, actor)  # 404 or 403 as JSON
        if not CODE.fullmatch(code):
            return error_response(422, "invalid_code", "code must be 0-3 capital letters and 1-5 digits, e.g. A042")
        if lang not in speech_languages():
            return error_response(422, "invalid_language",
                                  f"lang must be one of: {', '.join(speech_languages())}")
        counter_name = counter_by_slug(session, office_row, counter).name  # 404 as JSON
    return _wav(lambda: announcer().call_wav(code, counter_name, lang), DAY)


def _wav(make: Callable[[], bytes], max_age: int):
    try:
        data = make()
    except SpeechUnavailable as exc:
        log.warning("announcement not available: %s", exc)
        return error_response(503, "speech_unavailable", str(exc))
    response = Response(data, mimetype="audio/wav")
    response.headers["Cache-Control"] = f"private, max-age={max_age}"
    response.add_etag()
    return response.make_conditional(request, accept_ranges=True, complete_length=len(data))

"""The waiting-room display: calls, waiting counts and a clock on a big screen, with a gong and spoken calls."""

from flask import Blueprint

bp = Blueprint("display", __name__, url_prefix="/display", template_folder="templates",
               static_folder="static", static_url_path="/static")

from . import audio, views  # noqa: E402, F401  (they add their routes to bp)

"""The clerk's counter client: pick a counter, then work its queue from the keyboard."""

from flask import Blueprint

bp = Blueprint("counter", __name__, url_prefix="/counter", template_folder="templates",
               static_folder="static", static_url_path="/static")

from . import views  # noqa: E402,F401  (registers the routes on bp)

"""The administration client: an office's devices and its audit log, for supervisors (read) and admins."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static", static_url_path="/static")

from . import dashboard, setup, stats, users, views  # noqa: E402,F401  (register the routes on bp)

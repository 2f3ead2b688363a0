"""The JSON REST API under /api/v1."""

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")

from . import errors, print_routes, routes  # noqa: E402,F401  (register handlers and routes on the blueprint)

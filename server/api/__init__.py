"""The JSON REST API under /api/v1."""

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")

from . import (  # noqa: E402,F401  (each registers itself on api)
    audit_hook,
    audit_routes,
    device_routes,
    errors,
    office_routes,
    print_routes,
    routes,
    stats_routes,
    user_routes,
)

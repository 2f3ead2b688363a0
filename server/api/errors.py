"""Every API failure is JSON: {"error": {"code": ..., "message": ...}} with a fitting 4xx status."""

from __future__ import annotations

import logging

from flask import jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from server.queue.errors import QueueRuleError
from server.services.errors import ServiceError

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_field",
    429: "too_many_requests",
}


def error_response(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def handle_service_error(exc: ServiceError):
    return error_response(exc.status, exc.code, exc.message)


def handle_rule_error(exc: QueueRuleError):
    return error_response(409, exc.code, str(exc))


def handle_http_error(exc: HTTPException):
    if not wants_json():
        return exc
    status = exc.code or 500
    message = exc.description or exc.name
    if status == 413:
        message = "the request body is larger than 1 MiB"
    return error_response(status, HTTP_CODES.get(status, "http_error"), message)


def handle_database_down(exc: DBAPIError):
    if isinstance(exc, OperationalError) or getattr(exc, "connection_invalidated", False):
        log.warning("database unavailable: %s", exc)
        return error_response(503, "database_unavailable",
                              "the database cannot be reached right now; please try again shortly")
    return handle_unexpected(exc)


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def register(app) -> None:
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(QueueRuleError, handle_rule_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DBAPIError, handle_database_down)
    app.register_error_handler(Exception, handle_unexpected)

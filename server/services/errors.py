"""Errors a use case raises; the API maps each to one HTTP status and a snake_case code."""

from server.queue.errors import QueueRuleError


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(ServiceError):
    status = 404

    def __init__(self, what: str, key):
        super().__init__(f"no {what} '{key}'", f"{what}_not_found")


class Conflict(ServiceError):
    """The request is valid but the current state forbids it."""

    status = 409
    code = "conflict"


class Invalid(ServiceError):
    """A field has a value the use case cannot accept."""

    status = 422
    code = "invalid_field"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


def status_of(exc: Exception) -> int:
    if isinstance(exc, ServiceError):
        return exc.status
    if isinstance(exc, QueueRuleError):
        return 409
    return 500

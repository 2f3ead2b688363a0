"""Who is calling: a bearer token (devices, API clients) mapped to an Actor with a role."""

from __future__ import annotations

import functools

from flask import g, request

from server.auth.tokens import actor_of
from server.services.errors import Forbidden, ServiceError
from server.services.uow import Actor

from .context import context


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


def current_actor() -> Actor:
    if "actor" not in g:
        g.actor = _authenticate()
    return g.actor


def _authenticate() -> Actor:
    """A bearer token; else, from the pages, a staff session or a device cookie plus the CSRF header."""
    header = request.headers.get("Authorization", "")
    if not header:
        return _from_cookies()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    actor = actor_of(context().db, token.strip())
    if actor is None:
        raise Unauthorized("this token is unknown or revoked", "invalid_token")
    return actor


def _from_cookies() -> Actor:
    from flask_login import current_user

    from server.web.devices import COOKIE, device_actor

    actor = None
    if current_user.is_authenticated:
        actor = current_user.actor()
    elif request.cookies.get(COOKIE):
        actor = device_actor(request.cookies[COOKIE])
        if actor is None:
            raise Unauthorized("this device's token is unknown or revoked; pair the device again", "invalid_token")
    if actor is None:
        raise Unauthorized("send 'Authorization: Bearer <token>' (make one with: python -m server token add)")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        _check_csrf()
    return actor


class CsrfFailed(ServiceError):
    status = 403
    code = "csrf_failed"


def _check_csrf() -> None:
    from flask_wtf.csrf import validate_csrf
    from wtforms import ValidationError

    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except ValidationError as exc:
        raise CsrfFailed("missing or wrong X-CSRFToken header; reload the page") from exc


def requires(*roles: str):
    """Let only these roles in; everyone else gets 401 (no valid token) or 403 (wrong role)."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            actor = current_actor()
            if actor.role not in roles:
                raise Forbidden(f"a {actor.role} may not do this (allowed: {', '.join(roles)})", "wrong_role")
            return view(*args, **kwargs)
        wrapper.required_roles = roles
        return wrapper
    return decorate

"""Who is calling: a bearer token (devices, API clients) mapped to an Actor with a role."""

from __future__ import annotations

import functools

from flask import g, request

from server.auth.tokens import actor_for_token
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
    header = request.headers.get("Authorization", "")
    if not header:
        raise Unauthorized("send 'Authorization: Bearer <token>' (make one with: python -m server token add)")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    with context().db.read_session() as session:
        actor = actor_for_token(session, token.strip())
    if actor is None:
        raise Unauthorized("this token is unknown or revoked", "invalid_token")
    return actor


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

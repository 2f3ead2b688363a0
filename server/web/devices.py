"""Kiosks and displays: a device token made with the CLI is opened once in the URL and kept in a cookie."""

from __future__ import annotations

from flask import Flask, current_app, redirect, request

from server.auth.tokens import actor_for_token
from server.services.uow import Actor

COOKIE = "qms_device"
ONE_YEAR = 365 * 24 * 3600


def device_token() -> str | None:
    return request.args.get("token") or request.cookies.get(COOKIE)


def device_actor(token: str | None) -> Actor | None:
    if not token:
        return None
    with current_app.extensions["civicqueue"].db.read_session() as session:
        return actor_for_token(session, token)


def remember_token(token: str):
    """Move a token from the URL into an HttpOnly cookie and reload without it (no token in history)."""
    response = redirect(request.path)
    response.set_cookie(COOKIE, token, max_age=ONE_YEAR, httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["device_cookie_name"] = COOKIE

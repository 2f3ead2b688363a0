"""Kiosks and displays: a device token made with the CLI is opened once in the URL and kept in a cookie."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, redirect, request
from sqlalchemy import select

from server.auth.tokens import actor_of
from server.db.models import Office
from server.services.uow import Actor

COOKIE = "qms_device"
ONE_YEAR = 365 * 24 * 3600


def device_token() -> str | None:
    return request.args.get("token") or request.cookies.get(COOKIE)


def device_actor(token: str | None) -> Actor | None:
    if not token:
        return None
    return actor_of(current_app.extensions["civicqueue"].db, token)


@dataclass(frozen=True)
class OfficeInfo:
    """What a device page needs of its office, read once per request."""

    id: int
    slug: str
    name: str
    language: str
    timezone: str
    languages: tuple[str, ...] = ()  # the kiosk's languages; empty: every configured one


def find_office(slug: str) -> OfficeInfo | None:
    with current_app.extensions["civicqueue"].db.read_session() as session:
        o = session.scalars(select(Office).where(Office.slug == slug)).one_or_none()
        return OfficeInfo(o.id, o.slug, o.name, o.language, o.timezone, tuple(o.languages or ())) if o else None


def page_actor(token: str | None = None) -> Actor | None:
    """Who opens a device page: the URL's token, else the device cookie, else a signed-in staff member."""
    from server.web.staff import signed_in

    if token or request.cookies.get(COOKIE):
        return device_actor(token or request.cookies.get(COOKIE))
    staff = signed_in()
    return staff.actor() if staff else None


def remember_token(token: str):
    """Move a token from the URL into an HttpOnly cookie and reload without it (no token in history)."""
    return set_device_cookie(redirect(request.path), token)


def set_device_cookie(response, token: str):
    """Keep a device token in the HttpOnly device cookie for a year."""
    response.set_cookie(COOKIE, token, max_age=ONE_YEAR, httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["device_cookie_name"] = COOKIE

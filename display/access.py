"""Who may watch a display: a paired device (display or kiosk token) or staff of that office."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from sqlalchemy import select

from server.db.models import Office
from server.services.uow import Actor
from server.web.devices import COOKIE, device_actor
from server.web.staff import signed_in

ROLES = ("display", "kiosk", "clerk", "supervisor", "admin")


@dataclass(frozen=True)
class OfficeInfo:
    id: int
    slug: str
    name: str
    language: str
    timezone: str


def find_office(slug: str) -> OfficeInfo | None:
    with current_app.extensions["civicqueue"].db.read_session() as session:
        office = session.scalars(select(Office).where(Office.slug == slug)).one_or_none()
        if office is None:
            return None
        return OfficeInfo(office.id, office.slug, office.name, office.language, office.timezone)


def viewer() -> Actor | None:
    """The paired device of this browser (its cookie), else the signed-in staff member."""
    actor = device_actor(request.cookies.get(COOKIE))
    if actor is not None:
        return actor
    staff = signed_in()
    return staff.actor() if staff else None


def may_watch(actor: Actor | None, office_id: int | None = None) -> bool:
    """A display, kiosk or staff actor, covering the office when one is given."""
    if actor is None or actor.role not in ROLES:
        return False
    return office_id is None or actor.covers(office_id)

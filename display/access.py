"""Who may watch a display: a paired device (display or kiosk token) or staff of that office."""

from __future__ import annotations

from server.services.uow import Actor
from server.web.devices import page_actor

ROLES = ("display", "kiosk", "clerk", "supervisor", "admin")


def viewer() -> Actor | None:
    """The paired device of this browser (its cookie), else the signed-in staff member."""
    return page_actor()


def may_watch(actor: Actor | None, office_id: int | None = None) -> bool:
    """A display, kiosk or staff actor, covering the office when one is given."""
    if actor is None or actor.role not in ROLES:
        return False
    return office_id is None or actor.covers(office_id)

"""The supervisor's switch: no more tickets (for an office, or one of its services) until switched on again."""

from __future__ import annotations

from .context import Context
from .lookup import office_by_slug, service_by_slug
from .uow import Actor
from .views import office_view, service_view


def set_office_issuing(ctx: Context, actor: Actor, office_slug: str, open_: bool) -> dict:
    """Stop or resume ticket issue for the whole office; the kiosks say so at once."""
    with ctx.uow() as uow:
        office = office_by_slug(uow.session, office_slug, actor)
        if office.issuing != open_:
            office.issuing = open_
            uow.session.flush()
            uow.record(office, "issuing_opened" if open_ else "issuing_closed", ctx.clock(), actor,
                       details={"scope": "office"}, data={"issuing": open_})
        return office_view(office)


def set_service_issuing(ctx: Context, actor: Actor, office_slug: str, service_slug: str, open_: bool) -> dict:
    """Stop or resume ticket issue for one service (tickets already drawn stay in the queue)."""
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        office = office_by_slug(session, office_slug, actor)
        service = service_by_slug(session, office, service_slug)
        if service.issuing != open_:
            service.issuing = open_
            session.flush()
            uow.record(office, "issuing_opened" if open_ else "issuing_closed", now, actor, service_id=service.id,
                       details={"scope": "service", "service": service.slug},
                       data={"service": service.slug, "issuing": open_})
        return service_view(session, service, now)

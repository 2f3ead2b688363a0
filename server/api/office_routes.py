"""The admin's changes to offices, services and counters (creating services and counters is in routes.py)."""

from __future__ import annotations

from flask import current_app, jsonify

from server.auth import roles
from server.services import office_admin
from server.services.errors import Invalid
from server.services.lookup import office_by_slug

from . import api
from .auth import current_actor, requires
from .context import context
from .schemas import CounterPatch, OfficeIn, OfficePatch, OrderIn, ServicePatch, parse, slugify


def _offered() -> list[str]:
    return list(current_app.config["QMS_LANGUAGES"])


@api.get("/offices/<office>")
@requires(*roles.READ_OFFICES)
def office_settings(office: str):
    """One office with its time zone, languages and opening hours."""
    ctx = context()
    with ctx.db.read_session() as session:
        return jsonify(office_admin.office_settings(office_by_slug(session, office, current_actor())))


@api.post("/offices")
@requires(*roles.CONFIGURE)
def create_office():
    """Add an office (admins of the whole city)."""
    body = parse(OfficeIn)
    result = office_admin.create_office(
        context(), current_actor(), slug=body.slug or slugify(body.name), name=body.name, timezone=body.timezone,
        language=body.language, languages=body.languages, opening_hours=body.opening_hours, offered=_offered())
    return jsonify(result), 201


@api.patch("/offices/<office>")
@requires(*roles.CONFIGURE)
def update_office(office: str):
    """Change an office's name, time zone, languages, opening hours or calling policy (only the fields sent)."""
    body = parse(OfficePatch)
    changes = body.model_dump(exclude_unset=True)
    nulls = [key for key, value in changes.items() if value is None]
    nulls += [f"policy.{key}" for key, value in (changes.get("policy") or {}).items() if value is None]
    if nulls:
        raise Invalid(f"{nulls[0]}: must not be null", "invalid_field")
    return jsonify(office_admin.update_office(context(), current_actor(), office, changes, _offered()))


@api.patch("/offices/<office>/services/<service>")
@requires(*roles.CONFIGURE)
def update_service(office: str, service: str):
    """Change a service (only the fields sent); `active: false` takes it off the kiosks."""
    body = parse(ServicePatch)
    changes = body.model_dump(exclude_unset=True)
    nullable = {"daily_cap", "target_wait", "pictogram"}
    for key, value in changes.items():
        if value is None and key not in nullable:
            raise Invalid(f"{key}: must not be null", "invalid_field")
    return jsonify(office_admin.update_service(context(), current_actor(), office, service, changes))


@api.post("/offices/<office>/service-order")
@requires(*roles.CONFIGURE)
def order_services(office: str):
    """The order of the services on the kiosks: every service's slug, once."""
    body = parse(OrderIn)
    return jsonify({"order": office_admin.order_services(context(), current_actor(), office, body.order)})


@api.patch("/offices/<office>/counters/<counter>")
@requires(*roles.CONFIGURE)
def update_counter(office: str, counter: str):
    """Rename a counter or set its services, in the order it serves them."""
    body = parse(CounterPatch)
    changes = body.model_dump(exclude_unset=True)
    if any(v is None for v in changes.values()):
        raise Invalid("name and services must not be null", "invalid_field")
    return jsonify(office_admin.update_counter(context(), current_actor(), office, counter, changes))

"""The admin's changes to an office and its services and counters: validated, logged, and live on every screen.

Each change is an event in the office's log, so kiosks, displays and counters get a fresh `state` at once
(a renamed or new service shows on the kiosk without a reload; a deactivated one disappears).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from server.db.models import CounterService, Office, Service, Ticket
from server.queue.policy import Policy
from server.web.pictograms import PICTOGRAMS

from .context import Context
from .errors import Conflict, Forbidden, Invalid
from .lookup import counter_by_slug, office_by_slug, service_by_slug
from .uow import Actor
from .views import counter_view, office_view, service_view, stops_at_cutoff

OPEN_STATES = ("waiting", "called", "serving", "parked")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def office_settings(office: Office) -> dict:
    """An office as the admin edits it."""
    return office_view(office) | {"languages": list(office.languages or []),
                                  "opening_hours": dict(office.opening_hours or {}),
                                  "policy": policy_settings(office.policy)}


def policy_settings(policy: dict | None) -> dict[str, bool]:
    """Every switch of the calling policy, defaults filled in by the same rules that apply them."""
    switches = Policy.from_dict(policy)
    return {"overdue_first": switches.overdue_first, "service_levels": switches.service_levels,
            "stop_at_cutoff": stops_at_cutoff(policy)}


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"timezone: unknown time zone '{name}' (use an IANA name such as Europe/Berlin)",
                      "invalid_timezone") from None
    return name


def check_opening_hours(hours: dict[str, list]) -> dict[str, list[list[str]]]:
    """Periods per weekday, each start before its end, sorted, not overlapping."""
    out = {}
    for day in WEEKDAYS:
        periods = sorted([list(p) for p in hours.get(day, [])])
        for start, end in periods:
            if start >= end:
                raise Invalid(f"opening_hours.{day}: {start}–{end} ends before it starts", "invalid_hours")
        for (_, end), (start, _) in zip(periods, periods[1:], strict=False):
            if start < end:
                raise Invalid(f"opening_hours.{day}: the periods overlap at {start}", "invalid_hours")
        if periods:
            out[day] = periods
    return out


def check_languages(language: str, languages: list[str], offered: list[str]) -> list[str]:
    """The office's kiosk languages: known ones, no repeats, the default language among them."""
    if language not in offered:
        raise Invalid(f"language: '{language}' is not one of this installation's languages "
                      f"({', '.join(offered)})", "invalid_language")
    unknown = [code for code in languages if code not in offered]
    if unknown:
        raise Invalid(f"languages: '{unknown[0]}' is not one of this installation's languages "
                      f"({', '.join(offered)})", "invalid_language")
    if len(set(languages)) != len(languages):
        raise Invalid("languages: a language appears twice", "invalid_language")
    if languages and language not in languages:
        raise Invalid(f"languages: the office's default language '{language}' must be among them",
                      "invalid_language")
    return list(languages)


def create_office(ctx: Context, actor: Actor, *, slug: str, name: str, timezone: str, language: str,
                  languages: list[str], opening_hours: dict, offered: list[str]) -> dict:
    """A new office (admins of the whole city only); its services and counters are added afterwards."""
    if actor.office_ids is not None:
        raise Forbidden("only an administrator for the whole city may add offices", "wrong_office")
    check_timezone(timezone)
    languages = check_languages(language, languages, offered)
    hours = check_opening_hours(opening_hours)
    with ctx.uow() as uow:
        session = uow.session
        if session.scalars(select(Office.id).where(Office.slug == slug)).first() is not None:
            raise Conflict(f"there is already an office '{slug}'", "already_exists")
        office = Office(slug=slug, name=name, timezone=timezone, language=language, languages=languages,
                        opening_hours=hours, policy={}, issuing=True, seq=0)
        session.add(office)
        session.flush()
        uow.record(office, "office_created", ctx.clock(), actor, details={"slug": slug})
        return office_settings(office)


def update_office(ctx: Context, actor: Actor, office_slug: str, changes: dict, offered: list[str]) -> dict:
    """Change name, time zone, default language, kiosk languages, opening hours or the calling policy (only what
    is given; the policy's switches are merged into the stored ones)."""
    with ctx.uow() as uow:
        office = office_by_slug(uow.session, office_slug, actor)
        if "timezone" in changes:
            check_timezone(changes["timezone"])
        language = changes.get("language", office.language)
        languages = changes.get("languages", office.languages or [])
        if "language" in changes or "languages" in changes:
            changes["languages"] = check_languages(language, languages, offered)
        if "opening_hours" in changes:
            changes["opening_hours"] = check_opening_hours(changes["opening_hours"])
        if "policy" in changes:
            merged = dict(office.policy or {}) | changes["policy"]
            if policy_settings(merged) == policy_settings(office.policy):
                del changes["policy"]  # a default sent again is no change (and no event)
            else:
                changes["policy"] = merged
        changed = {k: v for k, v in changes.items() if getattr(office, k) != v}
        for key, value in changed.items():
            setattr(office, key, value)
        if changed:
            uow.session.flush()
            details = {"changed": sorted(changed)}
            if "policy" in changed:
                details["policy"] = policy_settings(office.policy)
            uow.record(office, "office_updated", ctx.clock(), actor, details=details, data={"office": office.slug})
        return office_settings(office)


def check_pictogram(name: str | None) -> str | None:
    if name is not None and name not in PICTOGRAMS:
        raise Invalid(f"pictogram: unknown pictogram '{name}' (one of: {', '.join(PICTOGRAMS)})",
                      "invalid_pictogram")
    return name


def check_codes(office: Office, service: Service | None, prefix: str, first: int, last: int) -> None:
    """Two services of an office must not hand out the same code."""
    if first > last:
        raise Invalid("range: the first number must not be greater than the last", "invalid_range")
    for other in office.services:
        if other is not service and other.prefix == prefix and other.range_start <= last and first <= other.range_end:
            raise Conflict(f"service '{other.slug}' already uses prefix '{prefix}' with an overlapping number "
                           "range; choose another prefix or range", "code_clash")


def open_tickets(session, service: Service) -> int:
    return session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.service_id == service.id, Ticket.state.in_(OPEN_STATES)))


FIELDS = {"prefix": "prefix", "daily_cap": "daily_cap", "target_wait": "target_wait_minutes",
          "service_minutes": "service_minutes", "active": "active", "pictogram": "pictogram", "name": "names"}


def update_service(ctx: Context, actor: Actor, office_slug: str, service_slug: str, changes: dict) -> dict:
    """Change a service (only the fields given). A service with open tickets cannot be deactivated."""
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        office = office_by_slug(session, office_slug, actor)
        service = service_by_slug(session, office, service_slug)
        check_pictogram(changes.get("pictogram"))
        first, last = changes.get("range") or (service.range_start, service.range_end)
        if "prefix" in changes or "range" in changes:
            check_codes(office, service, changes.get("prefix", service.prefix), first, last)
        if changes.get("active") is False and service.active:
            waiting = open_tickets(session, service)
            if waiting:
                raise Conflict(f"{waiting} ticket(s) of this service are still open; stop its ticket issue "
                               "first and deactivate it when its queue is empty (or transfer them)", "has_tickets")
        changed = []
        if "range" in changes and [service.range_start, service.range_end] != [first, last]:
            service.range_start, service.range_end = first, last
            changed.append("range")
        for key, column in FIELDS.items():
            if key in changes and getattr(service, column) != changes[key]:
                setattr(service, column, dict(changes[key]) if key == "name" else changes[key])
                changed.append(key)
        if changed:
            session.flush()
            uow.record(office, "service_updated", now, actor, service_id=service.id,
                       details={"service": service.slug, "changed": sorted(changed)},
                       data={"service": service.slug})
        return service_view(session, service, now)


def order_services(ctx: Context, actor: Actor, office_slug: str, order: list[str]) -> list[str]:
    """The order of the services on the kiosk: `order` names every service of the office once."""
    with ctx.uow() as uow:
        office = office_by_slug(uow.session, office_slug, actor)
        known = {s.slug: s for s in office.services}
        if sorted(order) != sorted(known):
            missing = sorted(set(known) - set(order))
            extra = sorted(set(order) - set(known))
            raise Invalid("order must name every service of the office exactly once"
                          + (f"; missing: {', '.join(missing)}" if missing else "")
                          + (f"; unknown: {', '.join(extra)}" if extra else ""), "invalid_order")
        if [s.slug for s in office.services] != order:
            for position, slug in enumerate(order):
                known[slug].sort_order = position
            uow.session.flush()
            uow.record(office, "services_ordered", ctx.clock(), actor, details={"order": order[:50]})
        return order


def update_counter(ctx: Context, actor: Actor, office_slug: str, counter_slug: str, changes: dict) -> dict:
    """Rename a counter or set its services, in the order it serves them."""
    with ctx.uow() as uow:
        session = uow.session
        office = office_by_slug(session, office_slug, actor)
        counter = counter_by_slug(session, office, counter_slug, with_services=True)
        changed = []
        if "name" in changes and changes["name"] != counter.name:
            counter.name = changes["name"]
            changed.append("name")
        if "services" in changes:
            slugs = changes["services"]
            if len(set(slugs)) != len(slugs):
                raise Invalid("services: a service appears twice", "invalid_services")
            services = [service_by_slug(session, office, slug) for slug in slugs]
            if [link.service.slug for link in counter.links] != slugs:
                counter.links.clear()
                session.flush()
                for level, service in enumerate(services):
                    counter.links.append(CounterService(service=service, level=level))
                changed.append("services")
        if changed:
            session.flush()
            uow.record(office, "counter_updated", ctx.clock(), actor, counter_id=counter.id,
                       details={"counter": counter.slug, "changed": changed}, data={"counter": counter_view(counter)})
        return counter_view(counter)


"""The REST endpoints of the contract. Views parse, call one use case, and render."""

from __future__ import annotations

from flask import current_app, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from server.auth import roles
from server.config import CounterConfig, ServiceConfig
from server.queue import Action
from server.queue.policy import PriorityClass
from server.services import actions, calling, issuing, issuing_control, layout, queries
from server.services.errors import Invalid, NotFound
from server.services.lookup import office_by_slug

from . import api
from .auth import current_actor, requires
from .context import context
from .openapi import openapi_document
from .schemas import (
    MAX_INT,
    CallTicketIn,
    CounterIn,
    IssuingIn,
    RequeueIn,
    ServiceIn,
    TicketIn,
    TransferIn,
    parse,
    slugify,
)

PRIORITY = {"normal": PriorityClass.NORMAL, "priority_need": PriorityClass.PRIORITY_NEED,
            "appointment": PriorityClass.APPOINTMENT_DUE}


@api.before_request
def _refuse_large_bodies():
    """A body over the limit is refused (413) before any view runs, even by views that never read it."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()
    if "\x00" in request.path or any("\x00" in v for v in request.args.values()):
        raise Invalid("the address contains a NUL character", "invalid_characters")


@api.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API."""
    return jsonify(openapi_document())


@api.get("/offices")
@requires(*roles.READ_OFFICES)
def offices():
    """The offices this caller may see."""
    return jsonify(queries.list_offices(context(), current_actor()))


@api.get("/offices/<office>/services")
@requires(*roles.READ_SERVICES)
def services(office: str):
    """An office's services with live waiting counts and estimates."""
    lang = request.args.get("lang")
    return jsonify(queries.list_services(context(), current_actor(), office, lang))


@api.post("/offices/<office>/services")
@requires(*roles.CONFIGURE)
def create_service(office: str):
    """Add a service (admin)."""
    body = parse(ServiceIn)
    names = body.name if isinstance(body.name, dict) else {_office_language(office): body.name}
    slug = body.slug or slugify(next(iter(names.values())))
    try:
        config = ServiceConfig(slug=slug, name=names, prefix=body.prefix, range=body.range,
                               daily_cap=body.daily_cap, target_wait=body.target_wait,
                               service_minutes=body.service_minutes, pictogram=body.pictogram)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise Invalid(f"{field}: {err['msg']}", "invalid_field") from None
    return jsonify(layout.create_service(context(), current_actor(), office, config)), 201


def _office_language(office: str) -> str:
    with context().db.read_session() as session:
        return office_by_slug(session, office, current_actor()).language


@api.get("/offices/<office>/counters")
@requires(*roles.READ_COUNTERS)
def counters(office: str):
    """An office's counters with their state and services."""
    return jsonify(queries.list_counters(context(), current_actor(), office))


@api.post("/offices/<office>/counters")
@requires(*roles.CONFIGURE)
def create_counter(office: str):
    """Add a counter (admin); `services` in the order the counter serves them."""
    body = parse(CounterIn)
    config = CounterConfig.model_construct(slug=body.slug or slugify(body.name), name=body.name,
                                           services=body.services)
    return jsonify(layout.create_counter(context(), current_actor(), office, config)), 201


@api.post("/offices/<office>/tickets")
@requires(*roles.ISSUE)
def issue_ticket(office: str):
    """Issue a ticket; the same request_id returns the same ticket (200) instead of a new one (201)."""
    body = parse(TicketIn)
    lang = issuing.validate_lang(body.lang, current_app.config["QMS_LANGUAGES"])
    ticket, created = issuing.issue_ticket(context(), current_actor(), office, body.service, lang=lang,
                                           request_id=body.request_id, priority_class=PRIORITY[body.priority])
    if created:  # committed: now it may print (a retried request prints nothing twice)
        current_app.extensions["civicqueue_spooler"].submit(ticket["print"])
    return jsonify(ticket), 201 if created else 200


@api.post("/offices/<office>/issuing")
@requires(*roles.STOP_ISSUE)
def office_issuing(office: str):
    """Stop (`{"open": false}`) or resume ticket issue for the whole office."""
    return jsonify(issuing_control.set_office_issuing(context(), current_actor(), office, parse(IssuingIn).open))


@api.post("/offices/<office>/services/<service>/issuing")
@requires(*roles.STOP_ISSUE)
def service_issuing(office: str, service: str):
    """Stop or resume ticket issue for one service."""
    body = parse(IssuingIn)
    return jsonify(issuing_control.set_service_issuing(context(), current_actor(), office, service, body.open))


@api.get("/offices/<office>/queue")
@requires(*roles.READ_QUEUE)
def queue(office: str):
    """Waiting (in calling order), called, serving and parked tickets."""
    return jsonify(queries.office_queue(context(), current_actor(), office))


@api.post("/offices/<office>/counters/<counter>/<any(open, pause, close):verb>")
@requires(*roles.WORK_COUNTER)
def counter_state(office: str, counter: str, verb: str):
    """Open, pause or close a counter."""
    state = {"open": "open", "pause": "paused", "close": "closed"}[verb]
    return jsonify(calling.set_counter_state(context(), current_actor(), office, counter, state))


@api.post("/offices/<office>/counters/<counter>/call-next")
@requires(*roles.WORK_COUNTER)
def call_next(office: str, counter: str):
    """Call the next ticket for this counter: 200 with it, or 204 when nobody waits."""
    ticket = calling.call_next(context(), current_actor(), office, counter)
    return (jsonify(ticket), 200) if ticket else ("", 204)


@api.post("/offices/<office>/counters/<counter>/call")
@requires(*roles.WORK_COUNTER)
def call_ticket(office: str, counter: str):
    """Call one given ticket (waiting or parked) to this counter."""
    body = parse(CallTicketIn)
    return jsonify(calling.call_ticket(context(), current_actor(), office, counter, body.ticket))


@api.post("/tickets/<int:ticket_id>/<action>")
@requires(*roles.WORK_COUNTER)
def ticket_action(ticket_id: int, action: str):
    """recall, start, finish, no-show, requeue, park, cancel or transfer a ticket."""
    if ticket_id > MAX_INT:  # no such id can exist; the database driver would overflow on it
        raise NotFound("ticket", ticket_id)
    try:
        act = Action(action)
    except ValueError:
        act = None
    if act is None or act is Action.CALL:
        known = ", ".join(a.value for a in Action if a is not Action.CALL)
        raise Invalid(f"unknown action '{action}' (one of: {known})", "unknown_action")
    ctx, actor = context(), current_actor()
    if act is Action.TRANSFER:
        body = parse(TransferIn)
        return jsonify(actions.act(ctx, actor, ticket_id, act, service=body.service, counter=body.counter,
                                   position=body.position))
    if act is Action.REQUEUE:
        return jsonify(actions.act(ctx, actor, ticket_id, act, position=parse(RequeueIn, optional=True).position))
    return jsonify(actions.act(ctx, actor, ticket_id, act))


@api.get("/status/<token>")
def status(token: str):
    """A ticket's live status for the citizen's phone (public; the token is the secret)."""
    return jsonify(queries.ticket_status(context(), token))


@api.get("/wait-times")
def wait_times():
    """Live waiting times of every office (public)."""
    return jsonify(queries.wait_times(context()))

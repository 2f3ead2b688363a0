"""The API's audit trail: every write by a staff member, allowed or refused, appends an audit entry.

Kiosks and displays are left out: what they do is in the event log already, and each ticket a kiosk issues
would flood the audit log. Requests without a valid token or session (401) have no actor and are left out too.
"""

from __future__ import annotations

import logging

from flask import Response, g, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from server.auth.roles import STAFF_ROLES
from server.db.models import Office, PrintJob, Ticket
from server.queue import Action
from server.services import audit

from . import api
from .context import context
from .schemas import MAX_INT

log = logging.getLogger(__name__)

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# endpoint -> (action name, what a successful response names: "ticket", "print_job" or None).
# "{verb}" and "{action}" are filled in from the path. A write route missing here is still audited, as
# "<endpoint>.<method>"; tests/api/test_audit.py asks for a stable name for each.
ACTIONS: dict[str, tuple[str, str | None]] = {
    "api.create_service": ("service.create", None),
    "api.create_counter": ("counter.create", None),
    "api.office_issuing": ("office.issuing", None),
    "api.service_issuing": ("service.issuing", None),
    "api.issue_ticket": ("ticket.issue", "ticket"),
    "api.counter_state": ("counter.{verb}", None),
    "api.call_next": ("counter.call_next", "ticket"),
    "api.call_ticket": ("counter.call", "ticket"),
    "api.ticket_action": ("ticket.{action}", "ticket"),
    "api.retry_print_job": ("print_job.retry", "print_job"),
    "api.reprint": ("ticket.reprint", "print_job"),
    "api.create_device": ("device.create", None),
    "api.new_pairing_code": ("device.pairing_code", None),
    "api.revoke_device": ("device.revoke", None),
    "api.redeem_pairing_code": ("device.paired", None),  # public: recorded by the use case itself
    "api.create_office": ("office.create", None),
    "api.update_office": ("office.update", None),
    "api.update_service": ("service.update", None),
    "api.order_services": ("service.order", None),
    "api.update_counter": ("counter.update", None),
    "api.create_user": ("user.create", None),
    "api.update_user": ("user.update", None),
    "api.set_user_password": ("user.password", None),
    "api.set_printer": ("printer.set", None),
}
TICKET_ACTIONS = frozenset(a.value for a in Action if a is not Action.CALL)
PATH_WORDS = ("verb", "action")  # path parts that name the action, not its target
ID_NAMES = {"job_id": "print job"}
# Request fields worth keeping; anything else (passwords, tokens, whatever a future route takes) never is.
SAFE_FIELDS = ("open", "service", "counter", "position", "ticket", "device", "name", "slug", "prefix", "services",
               "priority", "lang", "kind", "active", "range",
               "daily_cap", "target_wait", "service_minutes", "pictogram", "timezone", "language", "languages",
               "order", "opening_hours", "policy", "role", "offices", "backend")
MAX_TEXT, MAX_ITEMS = 100, 20


@api.after_request
def _audit_staff_write(response: Response) -> Response:
    """Append an audit entry for a staff write; a failure to write it is logged, the response stays as it is."""
    actor = g.get("actor")
    if request.method not in WRITES or actor is None or actor.role not in STAFF_ROLES:
        return response
    try:
        args = dict(request.view_args or {})
        action, result = action_of(request.endpoint or "", args)
        answer = _answer(response)
        details = {"status": response.status_code, **request_fields(), **outcome(answer, result)}
        audit.record(context(), actor, action, office_id=_office_id(args, answer), target=target_of(args),
                     details=details, ip=request.remote_addr)
    except Exception:  # the write itself is done (or refused); losing its audit entry must not turn it into a 500
        log.exception("could not write the audit entry for %s %s", request.method, request.path)
    return response


def action_of(endpoint: str, args: dict) -> tuple[str, str | None]:
    """A stable action name such as "counter.open" or "ticket.no_show", and what its response names."""
    name, result = ACTIONS.get(endpoint, (f"{endpoint.removeprefix('api.')}.{request.method.lower()}", None))
    if "{action}" in name:  # the path's action is free text: only known ones make names
        word = args.get("action", "")
        name = f"ticket.{word.replace('-', '_')}" if word in TICKET_ACTIONS else "ticket.unknown_action"
    return name.format(verb=args.get("verb", "")), result


def target_of(args: dict) -> str | None:
    """The path's keys: "mitte/schalter-1", "ticket 42", "print job 17"."""
    parts = [f"{ID_NAMES.get(key) or key.removesuffix('_id').replace('_', ' ')} {value}" if key.endswith("_id")
             else str(value) for key, value in args.items() if key not in PATH_WORDS]
    return "/".join(parts) or None


def request_fields() -> dict:
    """The short, harmless fields of the request body (see SAFE_FIELDS)."""
    body = _json_body()
    if not isinstance(body, dict):
        return {}
    fields = {key: _short(body[key]) for key in SAFE_FIELDS if key in body}
    return {key: value for key, value in fields.items() if value is not None}


def _json_body():
    if not request.is_json:
        return None
    try:
        return request.get_json(silent=True)
    except (HTTPException, RecursionError):  # too large or nested too deeply: the view refused it already
        return None


def _short(value):
    """A scalar, or a small list or dict of scalars, with texts cut short; None for anything else."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, list):
        return [_short(v) for v in value[:MAX_ITEMS] if not isinstance(v, list | dict)]
    if isinstance(value, dict):
        return {str(k)[:MAX_TEXT]: _short(v) for k, v in list(value.items())[:MAX_ITEMS]
                if not isinstance(v, list | dict)}
    return None


def _answer(response: Response) -> dict | None:
    """The JSON object a successful write answered with, read once for what it touched and its office."""
    if not 200 <= response.status_code < 300 or not response.is_json:
        return None
    body = response.get_json(silent=True)
    return body if isinstance(body, dict) else None


def outcome(body: dict | None, result: str | None) -> dict:
    """What a successful write touched, when the path does not say: the ticket called or issued, the print job."""
    if result is None or body is None:
        return {}
    if result == "ticket":
        return {"ticket": {"id": body.get("id"), "code": body.get("code")}}
    return {"print_job": body.get("id"), "ticket": body.get("ticket")}


def _office_id(args: dict, answer: dict | None) -> int | None:
    """The office the path names, directly or through its ticket or print job: a successful answer names it
    (a ticket's view has its office), else one indexed read."""
    ticket_id, job_id = _row_id(args, "ticket_id"), _row_id(args, "job_id")
    slug = args.get("office")
    if slug is None and (ticket_id is not None or job_id is not None):
        office = (answer or {}).get("office")
        slug = office if isinstance(office, str) else None
    if slug is not None:
        db, slug = context().db, str(slug)
        if slug not in db.office_ids:
            with db.read_session() as session:
                found = session.scalar(select(Office.id).where(Office.slug == slug))
            if found is None:
                return None
            db.office_ids[slug] = found
        return db.office_ids[slug]
    if ticket_id is not None:
        query = select(Ticket.office_id).where(Ticket.id == ticket_id)
    elif job_id is not None:
        query = select(PrintJob.office_id).where(PrintJob.id == job_id)
    else:
        return None
    with context().db.read_session() as session:
        return session.scalar(query)


def _row_id(args: dict, key: str) -> int | None:
    value = args.get(key)
    # Past MAX_INT no such row exists, and the driver would overflow on the comparison.
    return value if isinstance(value, int) and value <= MAX_INT else None

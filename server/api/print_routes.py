"""Printing: print jobs (state, retry, image), reprints, ticket previews and the office's devices."""

from __future__ import annotations

from typing import Annotated

from flask import Response, current_app, jsonify, request
from pydantic import Field

from server.auth import roles
from server.printing.preview import ticket_png
from server.services import print_reads, printing
from server.services.errors import Invalid, NotFound

from . import api
from .auth import current_actor, requires
from .context import context
from .schemas import MAX_INT, Body, parse

JOB_STATES = ("queued", "printing", "printed", "failed")
PNG_HEADERS = {"Cache-Control": "private, no-cache"}


class ReprintIn(Body):
    device: Annotated[str, Field(min_length=1, max_length=100)] | None = None


def _id(value: int, what: str) -> int:
    if value > MAX_INT:  # no such row can exist; the driver would overflow on it
        raise NotFound(what, value)
    return value


def spooler():
    return current_app.extensions["civicqueue_spooler"]


@api.get("/print-jobs/<int:job_id>")
@requires(*roles.PRINT_JOBS)
def print_job(job_id: int):
    """A print job's state, and why it failed."""
    return jsonify(print_reads.get_job(context(), current_actor(), _id(job_id, "print job")))


@api.post("/print-jobs/<int:job_id>/retry")
@requires(*roles.PRINT_JOBS)
def retry_print_job(job_id: int):
    """Print a failed job again (202: queued; the outcome follows as an event)."""
    job = printing.retry(context(), current_actor(), _id(job_id, "print job"))
    spooler().submit(job)
    return jsonify(job), 202


@api.get("/print-jobs/<int:job_id>/image.png")
@requires(*roles.PRINT_JOBS)
def print_job_image(job_id: int):
    """The exact image this job prints."""
    ctx = context()
    facts = print_reads.job_content(ctx, current_actor(), _id(job_id, "print job"))
    printer = print_reads.job_printer(ctx, job_id)
    return Response(ticket_png(facts, printer), mimetype="image/png", headers=PNG_HEADERS)


@api.post("/tickets/<int:ticket_id>/reprint")
@requires(*roles.REPRINT)
def reprint(ticket_id: int):
    """Print a ticket again, on the given kiosk's printer or where it was printed before."""
    body = parse(ReprintIn, optional=True)
    job = printing.reprint(context(), current_actor(), _id(ticket_id, "ticket"), body.device)
    spooler().submit(job)
    return jsonify(job), 202


@api.get("/tickets/<int:ticket_id>/ticket.png")
@requires(*roles.PRINT_JOBS)
def ticket_image(ticket_id: int):
    """The ticket as it would print now, on an 80 mm (default) or 58 mm roll."""
    paper = _paper()
    facts = print_reads.ticket_content(context(), current_actor(), _id(ticket_id, "ticket"), paper=paper)
    return Response(ticket_png(facts), mimetype="image/png", headers=PNG_HEADERS)


def _paper() -> int:
    raw = request.args.get("paper", "80")
    if raw not in ("80", "58"):
        raise Invalid("'paper' must be 80 or 58 (the roll width in mm)", "invalid_paper")
    return int(raw)


@api.get("/offices/<office>/devices")
@requires(*roles.READ_DEVICES)
def devices(office: str):
    """The office's kiosks and displays, with their agent and printer status."""
    return jsonify(print_reads.list_devices(context(), current_actor(), office))


@api.get("/offices/<office>/print-jobs")
@requires(*roles.READ_DEVICES)
def print_jobs(office: str):
    """The office's latest print jobs, newest first (?state=failed, ?limit=50)."""
    state = request.args.get("state") or None
    if state is not None and state not in JOB_STATES:
        raise Invalid(f"'state' must be one of {', '.join(JOB_STATES)}", "invalid_state")
    limit = request.args.get("limit", 50, type=int)
    if not 1 <= limit <= 500:
        raise Invalid("'limit' must be between 1 and 500", "invalid_limit")
    return jsonify({"jobs": print_reads.list_jobs(context(), current_actor(), office, state, limit)})

"""Print jobs and printers as staff, kiosks and the printer workers read them (no writes here)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Device, Office, PrintJob, Ticket
from server.queue.policy import Policy

from . import estimates
from .context import Context
from .errors import NotFound
from .lookup import office_by_slug, require_office, ticket_by_id
from .uow import Actor
from .views import count_ahead, iso

# --- views ---------------------------------------------------------------------------------------------------

def job_view(job: PrintJob, device_name: str, code: str, office: str) -> dict:
    error = {"code": job.error_code, "message": job.error_message} if job.error_code else None
    return {"id": job.id, "office": office, "ticket": {"id": job.ticket_id, "code": code}, "device": device_name,
            "backend": job.backend, "state": job.state, "error": error, "attempts": job.attempts,
            "reprint": job.reprint, "created_at": iso(job.created_at), "updated_at": iso(job.updated_at),
            "printed_at": iso(job.printed_at)}


def printer_view(device: Device) -> dict | None:
    """A device's printer as staff see it; None when it has none."""
    if device.printer_backend == "none":
        return None
    return {"backend": device.printer_backend, "status": device.printer_status, "detail": device.printer_detail,
            "checked_at": iso(device.printer_checked_at)}


def view_of(job: PrintJob) -> dict:
    return job_view(job, job.device.name, job.ticket.code, job.device.office.slug)


# --- content: what the ticket says ---------------------------------------------------------------------------

def content_of(*, office_name: str, names: dict, office_language: str, timezone: str, lang: str | None,
               code: str, created_at: str, people_ahead: int | None, estimate: dict | None, status_url: str,
               paper: int) -> dict:
    """The facts a ticket shows, as JSON; labels and formats are applied when it is drawn."""
    lang = lang or office_language
    service = names.get(lang) or names.get(office_language) or next(iter(names.values()), "")
    german = names.get("de") if lang != "de" and names.get("de") != service else None
    if estimate and estimate.get("low") is None:
        estimate = None  # no counter open: the ticket shows no number rather than an invented one
    return {"office": office_name, "code": code, "service": service, "service_de": german, "lang": lang,
            "issued_at": created_at, "timezone": timezone, "people_ahead": people_ahead, "estimate": estimate,
            "status_url": status_url, "paper": paper}


def current_content(session: Session, ticket: Ticket, now: datetime, base_url: str, paper: int = 80) -> dict:
    """The ticket as it stands now (reprints and previews): the people ahead only while it waits."""
    office, service = ticket.office, ticket.service
    ahead = estimate = None
    if ticket.state == "waiting":
        ahead = count_ahead(session, ticket, now, Policy.from_dict(office.policy))
        estimate = estimates.estimate_for(session, office.id, service.id, ahead, now, ticket.created_at).as_dict()
    return content_of(office_name=office.name, names=service.names, office_language=office.language,
                      timezone=office.timezone, lang=ticket.lang, code=ticket.code, created_at=iso(ticket.created_at),
                      people_ahead=ahead, estimate=estimate, status_url=f"{base_url}/t/{ticket.public_token}",
                      paper=paper)


def find_job(session: Session, job_id: int, actor: Actor | None) -> PrintJob:
    job = session.get(PrintJob, job_id)
    if job is None:
        raise NotFound("print job", job_id)
    if actor is not None:
        require_office(actor, session.get(Office, job.office_id))
    return job


# --- reading -------------------------------------------------------------------------------------------------

def get_job(ctx: Context, actor: Actor, job_id: int) -> dict:
    with ctx.db.read_session() as session:
        job = find_job(session, job_id, actor)
        return view_of(job)


def job_content(ctx: Context, actor: Actor, job_id: int) -> dict:
    with ctx.db.read_session() as session:
        return dict(find_job(session, job_id, actor).content)


def job_printer(ctx: Context, job_id: int) -> dict:
    """The settings of the printer a job was made for (its width decides the image)."""
    with ctx.db.read_session() as session:
        return dict(find_job(session, job_id, None).device.printer or {})


def ticket_content(ctx: Context, actor: Actor | None, ticket_id: int | None = None, *, token: str | None = None,
                   paper: int = 80) -> dict:
    """The ticket as it would print now, by id (staff, kiosks) or by public token (its holder)."""
    with ctx.db.read_session() as session:
        if token is not None:
            ticket = session.scalars(select(Ticket).where(Ticket.public_token == token)).one_or_none()
            if ticket is None:
                raise NotFound("ticket", "?")
        else:
            ticket = ticket_by_id(session, ticket_id, actor)
        return current_content(session, ticket, ctx.clock(), ctx.base_url, paper)


def latest_job_in(session: Session, ticket_id: int) -> dict | None:
    job = session.scalars(select(PrintJob).where(PrintJob.ticket_id == ticket_id)
                          .order_by(PrintJob.id.desc()).limit(1)).first()
    return view_of(job) if job else None


def list_jobs(ctx: Context, actor: Actor, office_slug: str, state: str | None, limit: int) -> list[dict]:
    with ctx.db.read_session() as session:
        office = office_by_slug(session, office_slug, actor)
        query = select(PrintJob).where(PrintJob.office_id == office.id).order_by(PrintJob.id.desc()).limit(limit)
        if state:
            query = query.where(PrintJob.state == state)
        return [view_of(j) for j in session.scalars(query)]


def list_devices(ctx: Context, actor: Actor, office_slug: str) -> list[dict]:
    with ctx.db.read_session() as session:
        office = office_by_slug(session, office_slug, actor)
        return [device_view(session, d) for d in session.scalars(
            select(Device).where(Device.office_id == office.id).order_by(Device.kind, Device.name))]


def get_device(ctx: Context, actor: Actor, office_slug: str, name: str) -> tuple[dict, int]:
    """One device as staff see it, and its id (for messages to its agent)."""
    with ctx.db.read_session() as session:
        office = office_by_slug(session, office_slug, actor)
        device = session.scalars(select(Device).where(Device.office_id == office.id,
                                                      Device.name == name)).one_or_none()
        if device is None:
            raise NotFound("device", name)
        return device_view(session, device), device.id


def device_view(session: Session, d: Device) -> dict:
    printer = printer_view(d)
    if printer is not None:
        last = session.scalars(select(PrintJob).where(PrintJob.device_id == d.id)
                               .order_by(PrintJob.id.desc()).limit(1)).first()
        printer["last_job"] = view_of(last) if last else None
        printer["settings"] = dict(d.printer)  # as configured (backend, host, port, path, paper, ...)
    agent = ({"connected": d.agent_connected, "version": d.agent_version}
             if d.kind == "kiosk" and (d.printer_backend == "usb" or d.agent_version) else None)
    return {"name": d.name, "kind": d.kind, "last_seen": iso(d.last_seen_at), "agent": agent, "printer": printer}


def printers_state(session: Session, office: Office) -> list[dict]:
    """The office's printers for the counter: status and the last failure, if the last job failed."""
    out = []
    for d in session.scalars(select(Device).where(Device.office_id == office.id).order_by(Device.name)):
        if d.printer_backend == "none":
            continue
        last = session.scalars(select(PrintJob).where(PrintJob.device_id == d.id)
                               .order_by(PrintJob.id.desc()).limit(1)).first()
        error = None
        if last is not None and last.state == "failed":
            error = {"code": last.error_code, "message": last.error_message, "at": iso(last.updated_at),
                     "ticket": last.ticket.code, "job": last.id}
        out.append({"device": d.name, "backend": d.printer_backend, "status": d.printer_status,
                    "detail": d.printer_detail, "checked_at": iso(d.printer_checked_at), "last_error": error})
    return out


def network_printers(ctx: Context) -> list[tuple[int, str, str, dict]]:
    """(device id, office slug, device name, settings) of every network printer that answers status queries."""
    with ctx.db.read_session() as session:
        return [(d.id, d.office.slug, d.name, dict(d.printer)) for d in session.scalars(select(Device))
                if d.printer_backend == "network" and d.printer.get("status", True)]

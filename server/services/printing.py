"""Print jobs: made with the ticket in its transaction, printed after the commit, every outcome an event.

A job moves queued → printing → printed | failed; a failed job can be retried (queued again, one attempt
more). The device row keeps the printer's last known status, so staff see a fault even with no job running.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, insert, or_, select, update
from sqlalchemy.orm import Session

from server.db.models import Device, PrintJob, Ticket

from .context import Context
from .errors import Conflict, Invalid, NotFound
from .lookup import office_by_slug, ticket_by_id
from .print_reads import current_content, find_job, job_view, printer_view, view_of
from .uow import Actor

PRINTER_STATES = ("ok", "paper_low", "paper_out", "offline", "error", "unknown")
ERROR_CODES = ("connection_refused", "timeout", "connection_lost", "paper_out", "printer_offline", "agent_offline",
               "agent_timeout", "device_error", "render_failed", "interrupted")
# What a failed job says about its printer.
STATUS_AFTER_ERROR = {"paper_out": "paper_out", "device_error": "error", "render_failed": None,
                      "interrupted": None}


@dataclass(frozen=True)
class PrintError(Exception):
    """Why a job failed, as one of ERROR_CODES and a sentence for staff."""

    code: str
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class JobWork:
    """What a printer worker needs to print one job."""

    id: int
    office: str
    device_id: int
    device: str
    code: str
    content: dict
    printer: dict
    agent_connected: bool


# --- making jobs ---------------------------------------------------------------------------------------------

def add_job(conn, *, office_id: int, office: str, ticket_id: int, code: str, device: tuple[int, str, dict],
            content: dict, actor: Actor, now: datetime, reprint: bool = False) -> dict:
    """Insert a queued job (inside the caller's transaction) and return its view."""
    device_id, device_name, printer = device
    values = {"office_id": office_id, "ticket_id": ticket_id, "device_id": device_id,
              "backend": printer["backend"], "state": "queued", "reprint": reprint, "attempts": 1,
              "content": content, "user_id": actor.user_id, "token_id": actor.token_id, "created_at": now,
              "updated_at": now}
    job_id = conn.execute(insert(PrintJob).values(values).returning(PrintJob.id)).scalar_one()
    job = PrintJob(id=job_id, printed_at=None, error_code=None, **values)
    return job_view(job, device_name, code, office)


def reprint(ctx: Context, actor: Actor, ticket_id: int, device_name: str | None = None) -> dict:
    """Print a ticket again (staff): on the named printer, else where it was printed, else the office's only one."""
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        ticket = ticket_by_id(session, ticket_id, actor)
        device = _reprint_device(session, ticket, device_name)
        printer = device.printer or {}
        content = current_content(session, ticket, now, ctx.base_url, printer.get("paper", 80))
        view = add_job(session.connection(), office_id=ticket.office_id, office=ticket.office.slug,
                       ticket_id=ticket.id, code=ticket.code,
                       device=(device.id, device.name, printer), content=content, actor=actor, now=now,
                       reprint=True)
        uow.record(ticket.office, "reprint", now, actor, ticket_id=ticket.id, service_id=ticket.service_id,
                   details={"job": view["id"], "device": device.name}, data={"print": view})
        return view


def _reprint_device(session: Session, ticket: Ticket, name: str | None) -> Device:
    printers = [d for d in session.scalars(select(Device).where(Device.office_id == ticket.office_id)
                                           .order_by(Device.id)) if d.printer_backend != "none"]
    if name is not None:
        device = next((d for d in session.scalars(select(Device).where(
            Device.office_id == ticket.office_id, Device.name == name))), None)
        if device is None:
            raise NotFound("device", name)
        if device.printer_backend == "none":
            raise Conflict(f"device '{name}' has no ticket printer", "no_printer")
        return device
    last = session.scalars(select(PrintJob).where(PrintJob.ticket_id == ticket.id)
                           .order_by(PrintJob.id.desc()).limit(1)).first()
    if last is not None and last.device.printer_backend != "none":
        return last.device
    if len(printers) == 1:
        return printers[0]
    if not printers:
        raise Conflict("this office has no ticket printer", "no_printer")
    names = ", ".join(d.name for d in printers)
    raise Invalid(f"this office has several printers; choose one with \"device\" ({names})", "device_required")


def retry(ctx: Context, actor: Actor, job_id: int) -> dict:
    """Queue a failed job again (one attempt more)."""
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        job = find_job(session, job_id, actor)
        if job.state != "failed":
            raise Conflict(f"print job {job_id} is {job.state}; only a failed job can be retried", "not_failed")
        job.state, job.attempts, job.updated_at = "queued", job.attempts + 1, now
        job.error_code = job.error_message = None
        session.flush()
        view = view_of(job)
        uow.record(job.device.office, "print_retried", now, actor, ticket_id=job.ticket_id,
                   service_id=job.ticket.service_id, details={"job": job.id, "attempt": job.attempts},
                   data={"print": view})
        return view


# --- the printer's side: start, finish, device status --------------------------------------------------------

def start(ctx: Context, job_id: int, still_queued: Collection[int] = ()) -> JobWork | None:
    """Take a queued job for printing; None if it is gone, someone else took it, or recovery failed it.

    `still_queued`: the jobs waiting behind it in this process's queue. Taking one vouches for them (their
    updated_at moves on), so recovery, which fails queued jobs nobody has vouched for lately, leaves a live
    printer's backlog alone."""
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        if still_queued:
            session.execute(update(PrintJob).where(PrintJob.id.in_(list(still_queued)), PrintJob.state == "queued")
                            .values(updated_at=now))
        taken = session.execute(update(PrintJob).where(PrintJob.id == job_id, PrintJob.state == "queued")
                                .values(state="printing", updated_at=now).returning(PrintJob.id)).first()
        if taken is None:
            return None
        job = session.get(PrintJob, job_id)
        device = job.device
        return JobWork(id=job.id, office=device.office.slug, device_id=device.id, device=device.name,
                       code=job.ticket.code, content=job.content, printer=device.printer or {},
                       agent_connected=device.agent_connected)


def finish(ctx: Context, job_id: int, error: PrintError | None = None, *, status: str | None = None,
           detail: str | None = None, late: bool = False, device_id: int | None = None) -> dict | None:
    """Record a job's outcome and what it says about the printer; None if the job was not (or no longer) printing.

    `late`: an agent's answer may still come after its deadline failed the job. `device_id`: only that device's job.
    """
    allowed = PrintJob.state == "printing"
    if late:
        allowed = allowed | ((PrintJob.state == "failed") & (PrintJob.error_code == "agent_timeout"))
    if device_id is not None:
        allowed = allowed & (PrintJob.device_id == device_id)
    return _conclude(ctx, job_id, allowed, error, status, detail)


def _conclude(ctx: Context, job_id: int, allowed: ColumnElement[bool], error: PrintError | None,
              status: str | None = None, detail: str | None = None) -> dict | None:
    """Record the outcome if the job still matches `allowed` (checked in the UPDATE itself, so two outcomes
    racing for one job record one)."""
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        values = {"state": "failed" if error else "printed", "updated_at": now,
                  "error_code": error.code if error else None, "error_message": error.message[:300] if error else None,
                  "printed_at": None if error else now}
        done = session.execute(update(PrintJob).where(PrintJob.id == job_id, allowed).values(values)
                               .returning(PrintJob.id)).first()
        if done is None:
            return None
        job = session.get(PrintJob, job_id)
        view = view_of(job)
        actor = Actor(role="kiosk", name=job.device.name, device_id=job.device_id)
        details = {"job": job.id, "device": job.device.name, "attempt": job.attempts}
        if error:
            details["error"] = error.code
        uow.record(job.device.office, "print_failed" if error else "printed", now, actor, ticket_id=job.ticket_id,
                   service_id=job.ticket.service_id, details=details, data={"print": view})
        new_status = status or (_status_after(error) if error else "ok")
        _set_status(uow, job.device, new_status, detail or (error.message if error else None), now)
        return view


def _status_after(error: PrintError) -> str | None:
    return STATUS_AFTER_ERROR.get(error.code, "offline")


def report_status(ctx: Context, device_id: int, status: str, detail: str | None = None) -> bool:
    """A printer's status as its agent or a check saw it; an event only when it changed."""
    if status not in PRINTER_STATES:
        raise Invalid(f"unknown printer status '{status}' (one of: {', '.join(PRINTER_STATES)})", "invalid_status")
    with ctx.uow() as uow:
        device = uow.session.get(Device, device_id)
        if device is None:
            raise NotFound("device", device_id)
        return _set_status(uow, device, status, detail, ctx.clock())


def _set_status(uow, device: Device, status: str | None, detail: str | None, now: datetime) -> bool:
    device.printer_checked_at = now
    if status is None or (status == device.printer_status and detail == device.printer_detail):
        return False
    device.printer_status, device.printer_detail = status, (detail or None) and detail[:300]
    uow.session.flush()
    uow.record(device.office, "printer_status", now, Actor(role="kiosk", name=device.name, device_id=device.id),
               details={"device": device.name, "status": status, "detail": device.printer_detail},
               data={"device": {"name": device.name, "printer": printer_view(device)}})
    return True


def agent_connected(ctx: Context, device_id: int, version: str) -> dict | None:
    """A kiosk's agent connected: its printer settings for `agent_config`, and the moment that marks this
    connection (`since`); None if the device is gone."""
    with ctx.uow() as uow:
        device = uow.session.get(Device, device_id)
        if device is None:
            return None
        now = ctx.clock()
        device.agent_connected, device.last_seen_at, device.agent_version = True, now, version[:32]
        device.agent_seen_at = now
        return {"printer": dict(device.printer or {}), "device": device.name, "office": device.office.slug,
                "since": now}


def agent_disconnected(ctx: Context, device_id: int, since: datetime) -> None:
    """The agent's connection from `since` ended. If the agent has connected again since (to any server
    process), that newer connection stands and nothing changes."""
    with ctx.uow() as uow:
        # Locked, so a reconnect committing meanwhile (to another process) is seen and stands.
        device = uow.session.scalars(select(Device).where(Device.id == device_id).with_for_update()).first()
        if device is None or device.last_seen_at != since:
            return
        _agent_gone(uow, device, "the kiosk agent is not connected", ctx.clock())


def _agent_gone(uow, device: Device, detail: str, now: datetime) -> None:
    device.agent_connected, device.last_seen_at = False, now
    if device.printer_backend == "usb":
        _set_status(uow, device, "offline", detail, now)


def agents_heard(ctx: Context, connections: Collection[tuple[int, datetime]]) -> list[tuple[int, datetime]]:
    """A process vouches for the agent connections it holds, (device id, since); it gets back those that are
    no longer current (the agent connected again elsewhere, or was taken for gone), to close them."""
    stale = []
    now = ctx.clock()
    with ctx.uow() as uow:
        for device_id, since in connections:
            current = uow.session.execute(update(Device).where(
                Device.id == device_id, Device.agent_connected.is_(True), Device.last_seen_at == since)
                .values(agent_seen_at=now).returning(Device.id)).first()
            if current is None:
                stale.append((device_id, since))
    return stale


def forget_silent_agents(ctx: Context, silent_for: timedelta) -> list[str]:
    """Agents no process has vouched for within `silent_for` are gone (the process holding their connection
    died and they did not connect again): recorded as if they had disconnected. Returns the kiosks' names."""
    now = ctx.clock()
    silent = Device.agent_connected.is_(True) & or_(Device.agent_seen_at.is_(None),
                                                     Device.agent_seen_at < now - silent_for)
    with ctx.db.read_session() as session:
        candidates = session.scalars(select(Device.id).where(silent).order_by(Device.id)).all()
    gone = []
    for device_id in candidates:
        with ctx.uow() as uow:
            device = uow.session.scalars(select(Device).where(Device.id == device_id, silent)
                                         .with_for_update()).first()
            if device is not None:  # else it connected again meanwhile
                _agent_gone(uow, device, f"no server process has heard from the kiosk agent for "
                                         f"{silent_for.total_seconds():g} s", now)
                gone.append(device.name)
    return gone


def fail_stale(ctx: Context, older_than: timedelta, reason: PrintError) -> list[dict]:
    """Fail jobs no live process is working on: printing for longer than `older_than` (its worker or agent is
    gone), or queued and not vouched for by a worker within it (the process that queued it died before its
    worker took it). Each outcome is recorded as usual."""
    cutoff = ctx.clock() - older_than
    stale = PrintJob.state.in_(("queued", "printing")) & (PrintJob.updated_at < cutoff)
    with ctx.db.read_session() as session:
        stuck = session.scalars(select(PrintJob.id).where(stale).order_by(PrintJob.id)).all()
    # Staleness is checked again in each UPDATE: a worker may have taken or vouched for the job meanwhile.
    return [v for v in (_conclude(ctx, job_id, stale, reason) for job_id in stuck) if v]


def set_printer(ctx: Context, office_slug: str, device_name: str, printer: dict, actor: Actor | None = None) -> dict:
    """Configure a device's printer (the CLI; the admin page with its actor, whose office scope is checked and
    whose change is an event, so counters and kiosks see it at once)."""
    with ctx.uow() as uow:
        office = office_by_slug(uow.session, office_slug, actor)
        device = uow.session.scalars(select(Device).where(Device.office_id == office.id,
                                                          Device.name == device_name)).one_or_none()
        if device is None:
            raise NotFound("device", device_name)
        if device.kind != "kiosk" and printer.get("backend", "none") != "none":
            raise Invalid(f"device '{device_name}' is a {device.kind}; only a kiosk has a ticket printer",
                          "not_a_kiosk")
        device.printer = printer
        device.printer_status, device.printer_detail = "unknown", None
        if actor is not None:
            uow.session.flush()
            uow.record(office, "printer_set", ctx.clock(), actor,
                       details={"device": device.name, "backend": device.printer_backend},
                       data={"device": {"name": device.name, "printer": printer_view(device)}})
        return printer

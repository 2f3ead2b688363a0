"""Print jobs on both databases: made with the ticket, taken once, finished once, and never lost track of."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from server.auth.tokens import actor_for_token, create_token
from server.db.models import Device, Event, PrintJob, Ticket
from server.services import printing
from server.services.issuing import issue_ticket
from server.services.printing import PrintError
from server.services.uow import SYSTEM

PRINTER = {"backend": "network", "host": "127.0.0.1", "port": 9100, "paper": 80, "timeout": 1.0}


def kiosk(ctx, printer: dict | None = PRINTER):
    token = create_token(ctx, "kiosk-test", device="kiosk", office_slug="mitte")
    if printer:
        printing.set_printer(ctx, "mitte", "kiosk-test", printer)
    with ctx.db.read_session() as session:
        return actor_for_token(session, token)


def events_of(ctx, ticket_id: int) -> list[str]:
    with ctx.db.read_session() as session:
        return list(session.scalars(select(Event.kind).where(Event.ticket_id == ticket_id).order_by(Event.seq)))


def test_the_job_is_committed_with_its_ticket_and_holds_what_the_ticket_says(ctx):
    ticket, created = issue_ticket(ctx, kiosk(ctx), "mitte", "ausweis", lang="tr")
    assert created and ticket["print"]["state"] == "queued" and ticket["print"]["ticket"]["code"] == ticket["code"]
    with ctx.db.read_session() as session:
        job = session.get(PrintJob, ticket["print"]["id"])
        assert job.ticket_id == ticket["id"] and job.backend == "network"
        assert job.content["code"] == ticket["code"] and job.content["lang"] == "tr"
        assert job.content["service"] == "Kimlik kartı ve pasaport"
        assert job.content["service_de"] == "Personalausweis und Reisepass"
        assert job.content["people_ahead"] == 0 and job.content["status_url"] == ticket["status_url"]


def test_a_kiosk_without_printer_and_staff_make_no_job(ctx):
    ticket, _ = issue_ticket(ctx, kiosk(ctx, printer=None), "mitte", "ausweis")
    assert ticket["print"] is None
    with ctx.db.read_session() as session:
        assert session.scalars(select(PrintJob)).all() == []


def test_only_one_worker_takes_a_job(ctx):
    ticket, _ = issue_ticket(ctx, kiosk(ctx), "mitte", "ausweis")
    taken, barrier = [], threading.Barrier(8)

    def worker():
        barrier.wait()
        taken.append(printing.start(ctx, ticket["print"]["id"]))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len([w for w in taken if w is not None]) == 1


def test_a_failure_then_a_retry_are_events_and_the_ticket_stays_waiting(ctx):
    ticket, _ = issue_ticket(ctx, kiosk(ctx), "mitte", "ausweis")
    job_id = ticket["print"]["id"]
    assert printing.start(ctx, job_id) is not None
    failed = printing.finish(ctx, job_id, PrintError("connection_refused", "printer refused"))
    assert failed["state"] == "failed" and failed["error"]["code"] == "connection_refused"
    assert printing.finish(ctx, job_id) is None  # finished once: a second outcome changes nothing
    retried = printing.retry(ctx, SYSTEM, job_id)
    assert retried["state"] == "queued" and retried["attempts"] == 2
    printing.start(ctx, job_id)
    assert printing.finish(ctx, job_id, status="ok")["state"] == "printed"
    assert events_of(ctx, ticket["id"]) == ["issued", "print_failed", "print_retried", "printed"]
    with ctx.db.read_session() as session:
        assert session.get(Ticket, ticket["id"]).state == "waiting"


def test_an_agents_late_answer_still_counts_but_only_for_its_own_job(ctx):
    actor = kiosk(ctx, {"backend": "usb", "paper": 80, "timeout": 1.0})
    ticket, _ = issue_ticket(ctx, actor, "mitte", "ausweis")
    job_id = ticket["print"]["id"]
    printing.start(ctx, job_id)
    printing.finish(ctx, job_id, PrintError("agent_timeout", "no answer"))
    assert printing.finish(ctx, job_id, late=True, device_id=actor.device_id + 1) is None  # another kiosk
    assert printing.finish(ctx, job_id, late=True, device_id=actor.device_id)["state"] == "printed"


def test_jobs_left_printing_by_a_dead_process_are_failed_for_staff_to_see(ctx, clock):
    ticket, _ = issue_ticket(ctx, kiosk(ctx), "mitte", "ausweis")
    printing.start(ctx, ticket["print"]["id"])
    assert printing.fail_stale(ctx, timedelta(minutes=2), PrintError("interrupted", "restart")) == []
    clock.advance(minutes=3)
    [failed] = printing.fail_stale(ctx, timedelta(minutes=2), PrintError("interrupted", "restart"))
    assert failed["id"] == ticket["print"]["id"] and failed["error"]["code"] == "interrupted"


def test_printer_status_changes_are_recorded_once(ctx):
    actor = kiosk(ctx)
    assert printing.report_status(ctx, actor.device_id, "paper_low") is True
    assert printing.report_status(ctx, actor.device_id, "paper_low") is False
    assert printing.report_status(ctx, actor.device_id, "ok") is True
    with ctx.db.read_session() as session:
        kinds = session.scalars(select(Event.details).where(Event.kind == "printer_status")).all()
    assert [d["status"] for d in kinds] == ["paper_low", "ok"]


def test_an_agent_that_reconnected_elsewhere_is_not_marked_gone_by_its_old_connection(ctx, clock):
    actor = kiosk(ctx, {"backend": "usb", "paper": 80, "timeout": 1.0})
    first = printing.agent_connected(ctx, actor.device_id, "1.0")
    clock.advance(seconds=1)
    second = printing.agent_connected(ctx, actor.device_id, "1.0")  # e.g. to another server process
    printing.agent_disconnected(ctx, actor.device_id, first["since"])
    with ctx.db.read_session() as session:
        assert session.get(Device, actor.device_id).agent_connected is True
    printing.agent_disconnected(ctx, actor.device_id, second["since"])
    with ctx.db.read_session() as session:
        device = session.get(Device, actor.device_id)
        assert device.agent_connected is False and device.printer_status == "offline"

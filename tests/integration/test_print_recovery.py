"""What a killed server process leaves behind for printing, found and settled by the leader's recovery (both
databases): jobs it had queued or started, and kiosk agents whose connection it held."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.auth.tokens import actor_for_token, create_token
from server.db.models import Device, Event, Office, PrintJob
from server.printing.spooler import AGENT_HEARTBEAT, AGENT_SILENCE
from server.realtime import socketio
from server.services import printing
from server.services.issuing import issue_ticket
from server.services.print_reads import printers_state
from server.services.uow import SYSTEM
from tests.support.fake_printer import FakePrinter

USB = {"backend": "usb", "paper": 80, "timeout": 1.0}
STALE = timedelta(seconds=120)  # the default print_stale_seconds


@pytest.fixture
def app(ctx, settings, clock):
    """The app over each database (its own context on the test's database and fake clock)."""
    from server.app import create_app

    application = create_app(settings, db=ctx.db, clock=clock)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def spooler(app):
    return app.extensions["civicqueue_spooler"]


@pytest.fixture
def printer():
    with FakePrinter() as fake:
        yield fake


def kiosk(ctx, printer: dict) -> tuple[str, object]:
    """A kiosk of office mitte with that printer: its device token and its actor."""
    token = create_token(ctx, "kiosk-test", device="kiosk", office_slug="mitte")
    printing.set_printer(ctx, "mitte", "kiosk-test", printer)
    with ctx.db.read_session() as session:
        return token, actor_for_token(session, token)


def network(printer: FakePrinter, timeout: float = 1.0) -> dict:
    return {"backend": "network", "host": "127.0.0.1", "port": printer.port, "paper": 80, "timeout": timeout}


def job_of(ctx, job_id: int) -> PrintJob:
    with ctx.db.read_session() as session:
        return session.get(PrintJob, job_id)


def device_of(ctx, device_id: int) -> Device:
    with ctx.db.read_session() as session:
        return session.get(Device, device_id)


def details_of(ctx, kind: str) -> list[dict]:
    with ctx.db.read_session() as session:
        return list(session.scalars(select(Event.details).where(Event.kind == kind).order_by(Event.seq)))


def wait_for_state(ctx, job_id: int, state: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while job_of(ctx, job_id).state != state:
        assert time.monotonic() < deadline, f"job {job_id} is {job_of(ctx, job_id).state}, not {state}"
        time.sleep(0.01)


# --- jobs ----------------------------------------------------------------------------------------------------

def test_a_queued_job_no_worker_took_is_failed_as_interrupted_once_stale(ctx, clock, spooler, printer):
    _, actor = kiosk(ctx, network(printer))
    ticket, _ = issue_ticket(ctx, actor, "mitte", "ausweis")  # committed, but its process died before submitting
    job_id = ticket["print"]["id"]
    clock.advance(seconds=STALE.total_seconds() + 1)
    spooler.recover()
    job = job_of(ctx, job_id)
    assert (job.state, job.error_code) == ("failed", "interrupted")
    [failed] = details_of(ctx, "print_failed")
    assert failed == {"job": job_id, "device": "kiosk-test", "attempt": 1, "error": "interrupted"}
    with ctx.db.read_session() as session:
        office = session.scalars(select(Office).where(Office.slug == "mitte")).one()
        [state] = [p for p in printers_state(session, office) if p["device"] == "kiosk-test"]
    assert state["last_error"]["code"] == "interrupted" and state["last_error"]["ticket"] == ticket["code"]


def test_a_young_queued_job_is_left_alone(ctx, clock, spooler, printer):
    _, actor = kiosk(ctx, network(printer))
    ticket, _ = issue_ticket(ctx, actor, "mitte", "ausweis")
    clock.advance(seconds=STALE.total_seconds() - 5)
    spooler.recover()
    assert job_of(ctx, ticket["print"]["id"]).state == "queued"
    assert details_of(ctx, "print_failed") == []


def test_a_backlog_a_live_worker_is_working_through_is_not_failed_under_it(ctx, clock, spooler, printer):
    """A printer that hangs holds its worker for its timeout per job; the jobs waiting behind are old but live."""
    printer.mode = "hang"
    _, actor = kiosk(ctx, network(printer, timeout=0.5))
    first, _ = issue_ticket(ctx, actor, "mitte", "ausweis")
    second, _ = issue_ticket(ctx, actor, "mitte", "ausweis")
    clock.advance(seconds=STALE.total_seconds() + 60)  # both were made long ago, as in a long backlog
    spooler.submit(first["print"])
    spooler.submit(second["print"])
    wait_for_state(ctx, first["print"]["id"], "printing")  # taking the first vouched for the second
    spooler.recover()
    assert job_of(ctx, second["print"]["id"]).state == "queued"
    assert spooler.wait_idle()
    for ticket in (first, second):  # each failed on the printer, in turn; none taken for orphaned
        job = job_of(ctx, ticket["print"]["id"])
        assert job.state == "failed" and job.error_code != "interrupted", (job.state, job.error_code)
    assert len(printer.connections) >= 2


def test_a_job_recovery_failed_is_not_printed_when_a_live_worker_reaches_it_and_a_retry_prints_it_once(
        ctx, clock, spooler, printer):
    _, actor = kiosk(ctx, network(printer))
    ticket, _ = issue_ticket(ctx, actor, "mitte", "ausweis")
    clock.advance(seconds=STALE.total_seconds() + 1)
    spooler.recover()
    spooler.submit(ticket["print"])  # its worker gets to it after all (the process was only stalled)
    assert spooler.wait_idle()
    time.sleep(0.2)
    assert printer.connections == [] and printer.jobs == []
    job = job_of(ctx, ticket["print"]["id"])
    assert (job.state, job.error_code) == ("failed", "interrupted")

    spooler.submit(printing.retry(ctx, SYSTEM, job.id))  # staff retry from the counter's printer banner
    assert spooler.wait_idle()
    assert len(printer.wait_for_jobs(1)) == 1 and job_of(ctx, job.id).state == "printed"


def test_a_job_left_printing_is_failed_once_stale_but_not_before(ctx, clock, spooler, printer):
    _, actor = kiosk(ctx, network(printer))
    ticket, _ = issue_ticket(ctx, actor, "mitte", "ausweis")
    assert printing.start(ctx, ticket["print"]["id"]) is not None  # then the process died mid-job
    clock.advance(seconds=STALE.total_seconds() - 5)
    spooler.recover()
    assert job_of(ctx, ticket["print"]["id"]).state == "printing"
    clock.advance(seconds=10)
    spooler.recover()
    assert job_of(ctx, ticket["print"]["id"]).error_code == "interrupted"


# --- agents --------------------------------------------------------------------------------------------------

def test_an_agent_no_process_heard_from_is_marked_disconnected_with_its_printer_offline(ctx, clock, spooler):
    _, actor = kiosk(ctx, USB)
    printing.agent_connected(ctx, actor.device_id, "1.0")
    printing.report_status(ctx, actor.device_id, "ok")
    clock.advance(seconds=AGENT_SILENCE.total_seconds() + 1)  # its process was killed, the kiosk PC is off
    spooler.recover()
    device = device_of(ctx, actor.device_id)
    assert device.agent_connected is False and device.printer_status == "offline"
    assert [d["status"] for d in details_of(ctx, "printer_status")] == ["ok", "offline"]
    assert "heard" in details_of(ctx, "printer_status")[-1]["detail"]


def test_an_agent_heard_from_recently_is_left_alone(ctx, clock, spooler):
    _, actor = kiosk(ctx, USB)
    seen = printing.agent_connected(ctx, actor.device_id, "1.0")
    clock.advance(seconds=AGENT_SILENCE.total_seconds() - 10)
    assert printing.agents_heard(ctx, [(actor.device_id, seen["since"])]) == []  # its process vouches for it
    clock.advance(seconds=AGENT_SILENCE.total_seconds() - 10)  # long after it connected, soon after it was heard
    spooler.recover()
    assert device_of(ctx, actor.device_id).agent_connected is True
    assert details_of(ctx, "printer_status") == []


def test_an_agent_taken_for_gone_connects_again_and_stays_connected(ctx, clock, spooler):
    _, actor = kiosk(ctx, USB)
    old = printing.agent_connected(ctx, actor.device_id, "1.0")
    clock.advance(seconds=AGENT_SILENCE.total_seconds() + 1)
    spooler.recover()
    # The connection that was taken for gone is no longer current: its holder is told to close it.
    assert printing.agents_heard(ctx, [(actor.device_id, old["since"])]) == [(actor.device_id, old["since"])]

    clock.advance(seconds=1)
    new = printing.agent_connected(ctx, actor.device_id, "1.0")
    printing.report_status(ctx, actor.device_id, "ok")
    printing.agent_disconnected(ctx, actor.device_id, old["since"])  # the old socket's end changes nothing
    clock.advance(seconds=AGENT_SILENCE.total_seconds() - 10)
    spooler.recover()
    device = device_of(ctx, actor.device_id)
    assert device.agent_connected is True and device.printer_status == "ok"
    assert printing.agents_heard(ctx, [(actor.device_id, new["since"])]) == []


def test_a_process_vouches_for_the_agents_it_holds_and_closes_a_connection_taken_for_gone(ctx, clock, app,
                                                                                           spooler):
    token, actor = kiosk(ctx, USB)
    agent = socketio.test_client(app, namespace="/kiosk", auth={"token": token, "agent": "1.0"})
    assert agent.is_connected("/kiosk")
    for _ in range(4):  # four heartbeats: long past the silence limit since the connect, never silent
        clock.advance(seconds=AGENT_HEARTBEAT)
        spooler.vouch_for_agents()
        spooler.recover()
    assert device_of(ctx, actor.device_id).agent_connected is True and agent.is_connected("/kiosk")

    clock.advance(seconds=AGENT_SILENCE.total_seconds() + 1)  # this process stalled: no heartbeat in time
    spooler.recover()
    assert device_of(ctx, actor.device_id).agent_connected is False
    spooler.vouch_for_agents()  # awake again, it closes the connection so the agent connects anew
    assert not agent.is_connected("/kiosk")

    again = socketio.test_client(app, namespace="/kiosk", auth={"token": token, "agent": "1.0"})
    assert again.is_connected("/kiosk") and device_of(ctx, actor.device_id).agent_connected is True
    again.disconnect(namespace="/kiosk")

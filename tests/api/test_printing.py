"""Printing a kiosk's tickets on a (fake) ESC/POS network printer: what it receives, and every way it fails.

The fake printer is a real TCP server that decodes the raster it receives; the preview PNG comes from the API.
A ticket is always committed first; a failed print leaves it valid, says why, and a retry prints it.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from server.services.printing import set_printer
from tests.support.fake_printer import FakePrinter

from .helpers import assert_error, body_text, queue

KIOSK = "t-kiosk"  # the device the kiosk token of the fixtures stands for


@pytest.fixture
def printer():
    with FakePrinter() as fake:
        yield fake


@pytest.fixture
def spooler(app):
    return app.extensions["civicqueue_spooler"]


def use_printer(ctx, printer: FakePrinter | None = None, **settings) -> None:
    config = {"backend": "network", "host": "127.0.0.1", "port": printer.port if printer else 9, "paper": 80,
              "timeout": 0.5, "status": True} | settings
    set_printer(ctx, "mitte", KIOSK, config)


def issue_printed(api, spooler, **fields) -> tuple[dict, dict]:
    resp = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis", **fields})
    assert resp.status_code == 201, body_text(resp)
    ticket = resp.get_json()
    assert ticket["print"]["state"] == "queued"
    assert spooler.wait_idle()
    return ticket, api.get(f"/print-jobs/{ticket['print']['id']}", "kiosk").get_json()


def png(resp) -> Image.Image:
    assert resp.status_code == 200 and resp.mimetype == "image/png", body_text(resp)
    return Image.open(io.BytesIO(resp.data))


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("1"), b.convert("1")).getbbox() is None


def test_a_kiosk_ticket_prints_pixel_for_pixel_what_the_preview_shows(api, sqlite_ctx, spooler, printer):
    use_printer(sqlite_ctx, printer)
    ticket, job = issue_printed(api, spooler)

    assert job["state"] == "printed" and job["error"] is None and job["printed_at"]
    [received] = printer.wait_for_jobs(1)
    assert printer.errors == [] and received.cut == "full" and received.inits == 1
    assert 1 in received.statuses_asked and 4 in received.statuses_asked
    preview = png(api.get(f"/print-jobs/{job['id']}/image.png", "kiosk"))
    assert preview.size[0] == 576 and received.image.size == preview.size
    assert same_pixels(received.image, preview)
    # Until something changes, the ticket's own preview is that same image too.
    assert same_pixels(png(api.get(f"/tickets/{ticket['id']}/ticket.png", "clerk")), preview)


def test_a_58_mm_printer_gets_a_384_dot_ticket(api, sqlite_ctx, spooler, printer):
    use_printer(sqlite_ctx, printer, paper=58)
    _ticket, job = issue_printed(api, spooler)
    assert job["state"] == "printed", job
    [received] = printer.wait_for_jobs(1)
    assert received.image.size[0] == 384
    assert same_pixels(received.image, png(api.get(f"/print-jobs/{job['id']}/image.png", "clerk")))


@pytest.mark.parametrize(("mode", "code", "status"), [
    ("refuse", "connection_refused", "offline"),
    ("hang", "timeout", "offline"),
    ("close_mid_job", "connection_lost", "offline"),
    ("paper_out", "paper_out", "paper_out"),
    ("offline", "printer_offline", "offline"),
])
def test_a_failed_print_keeps_the_ticket_says_why_and_a_retry_prints_it(api, sqlite_ctx, spooler, printer,
                                                                        published, mode, code, status):
    use_printer(sqlite_ctx, printer)
    printer.mode = mode
    ticket, job = issue_printed(api, spooler)

    assert job["state"] == "failed" and job["error"]["code"] == code and job["error"]["message"]
    assert ticket["id"] in [t["id"] for t in queue(api)["waiting"]]  # no ghost number: the ticket stands
    [device] = [d for d in api.get("/offices/mitte/devices", "clerk").get_json() if d["name"] == KIOSK]
    assert device["printer"]["status"] == status and device["printer"]["last_job"]["id"] == job["id"]
    failed = api.get("/offices/mitte/print-jobs?state=failed", "clerk").get_json()["jobs"]
    assert [j["id"] for j in failed] == [job["id"]]

    printer.mode = "ok"
    retried = api.post(f"/print-jobs/{job['id']}/retry", "kiosk")
    assert retried.status_code == 202 and retried.get_json()["state"] == "queued", body_text(retried)
    assert spooler.wait_idle()
    after = api.get(f"/print-jobs/{job['id']}", "kiosk").get_json()
    assert after["state"] == "printed" and after["attempts"] == 2 and after["error"] is None
    [received] = printer.wait_for_jobs(1)
    assert same_pixels(received.image, png(api.get(f"/print-jobs/{job['id']}/image.png", "kiosk")))
    [device] = [d for d in api.get("/offices/mitte/devices", "clerk").get_json() if d["name"] == KIOSK]
    assert device["printer"]["status"] == "ok"


def test_print_outcomes_are_events_in_the_office_log(app, api, sqlite_ctx, spooler, printer):
    from sqlalchemy import select

    from server.db.models import Event

    use_printer(sqlite_ctx, printer)
    printer.mode = "refuse"
    _ticket, job = issue_printed(api, spooler)
    printer.mode = "ok"
    api.post(f"/print-jobs/{job['id']}/retry", "clerk")
    assert spooler.wait_idle()
    with sqlite_ctx.db.read_session() as session:
        kinds = [e.kind for e in session.scalars(select(Event).where(Event.ticket_id == job["ticket"]["id"])
                                                 .order_by(Event.seq))]
        status = [e.details["status"] for e in session.scalars(select(Event).where(Event.kind == "printer_status")
                                                               .order_by(Event.seq))]
    assert kinds == ["issued", "print_failed", "print_retried", "printed"]
    assert status == ["offline", "ok"]


def test_a_repeated_request_id_prints_nothing_twice(api, sqlite_ctx, spooler, printer):
    use_printer(sqlite_ctx, printer)
    first, _job = issue_printed(api, spooler, request_id="tap-1")
    again = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis", "request_id": "tap-1"})
    assert again.status_code == 200 and again.get_json()["print"]["id"] == first["print"]["id"]
    assert spooler.wait_idle()
    assert len(printer.wait_for_jobs(1)) == 1 and len(printer.connections) == 1


def test_staff_reprint_a_ticket_where_it_was_printed(api, sqlite_ctx, spooler, printer):
    use_printer(sqlite_ctx, printer)
    ticket, _job = issue_printed(api, spooler)
    resp = api.post(f"/tickets/{ticket['id']}/reprint", "clerk")
    assert resp.status_code == 202 and resp.get_json()["reprint"] is True, body_text(resp)
    assert spooler.wait_idle()
    assert len(printer.wait_for_jobs(2)) == 2
    assert api.get(f"/print-jobs/{resp.get_json()['id']}", "clerk").get_json()["state"] == "printed"


def test_a_ticket_from_a_kiosk_without_printer_has_no_print_job(api):
    resp = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"})
    assert resp.status_code == 201 and resp.get_json()["print"] is None


def test_an_agent_printer_without_its_agent_fails_at_once_and_the_ticket_stands(api, sqlite_ctx, spooler):
    set_printer(sqlite_ctx, "mitte", KIOSK, {"backend": "usb", "paper": 80, "timeout": 1.0})
    ticket, job = issue_printed(api, spooler)
    assert job["state"] == "failed" and job["error"]["code"] == "agent_offline"
    assert ticket["id"] in [t["id"] for t in queue(api)["waiting"]]


def test_a_file_printer_gets_the_whole_job(api, sqlite_ctx, spooler, tmp_path):
    from tests.support.fake_printer import parse_stream

    target = tmp_path / "lp0"
    set_printer(sqlite_ctx, "mitte", KIOSK, {"backend": "file", "path": str(target), "paper": 80})
    _ticket, job = issue_printed(api, spooler)
    assert job["state"] == "printed"
    parsed = parse_stream(target.read_bytes())
    assert parsed.errors == [] and len(parsed.jobs) == 1
    assert same_pixels(parsed.jobs[0].image, png(api.get(f"/print-jobs/{job['id']}/image.png", "kiosk")))


def test_a_missing_device_file_is_a_printer_offline_failure(api, sqlite_ctx, spooler, tmp_path):
    set_printer(sqlite_ctx, "mitte", KIOSK, {"backend": "file", "path": str(tmp_path / "no" / "lp0"), "paper": 80})
    _ticket, job = issue_printed(api, spooler)
    assert job["state"] == "failed" and job["error"]["code"] == "printer_offline"


def test_print_requests_with_bad_input_get_clear_errors(api, sqlite_ctx, spooler, printer):
    use_printer(sqlite_ctx, printer)
    ticket, job = issue_printed(api, spooler)
    assert_error(api.post(f"/print-jobs/{job['id']}/retry", "clerk"), 409, "not_failed")
    assert_error(api.get("/print-jobs/999999", "clerk"), 404, "print job_not_found")
    assert_error(api.get(f"/print-jobs/{2**40}", "clerk"), 404, "print job_not_found")
    assert_error(api.post(f"/tickets/{ticket['id']}/reprint", "clerk", json={"device": "nope"}), 404,
                 "device_not_found")
    assert_error(api.post(f"/tickets/{ticket['id']}/reprint", "clerk", json={"device": "anzeige-wartebereich"}),
                 409, "no_printer")
    assert_error(api.post(f"/tickets/{ticket['id']}/reprint", "clerk", data="{", content_type="application/json"),
                 400, "malformed_json")
    assert_error(api.get(f"/tickets/{ticket['id']}/ticket.png?paper=99", "clerk"), 422, "invalid_paper")
    assert_error(api.get("/offices/mitte/print-jobs?state=lost", "clerk"), 422, "invalid_state")
    assert_error(api.get("/offices/mitte/print-jobs?limit=0", "clerk"), 422, "invalid_limit")
    assert api.get(f"/print-jobs/{job['id']}", "clerk").get_json()["state"] == "printed"  # nothing changed


def test_the_public_ticket_image_needs_the_tickets_token(api, app):
    ticket = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"}).get_json()
    token = ticket["status_url"].rsplit("/", 1)[1]
    client = app.test_client()
    image = png(client.get(f"/t/{token}/ticket.png"))
    assert image.size[0] == 576
    assert client.get("/t/not-a-token/ticket.png").status_code == 404


def test_the_counter_state_lists_printers_with_their_last_failure(app, api, sqlite_ctx, spooler, printer):
    from server.db.models import Office
    from server.realtime.snapshots import counter_state

    use_printer(sqlite_ctx, printer)
    printer.mode = "paper_out"
    _ticket, job = issue_printed(api, spooler)
    with sqlite_ctx.db.read_session() as session:
        office = session.query(Office).filter_by(slug="mitte").one()
        state = counter_state(session, office, sqlite_ctx.clock())
    [entry] = state["printers"]
    assert entry["device"] == KIOSK and entry["status"] == "paper_out"
    assert entry["last_error"]["code"] == "paper_out" and entry["last_error"]["ticket"] == job["ticket"]["code"]


def test_idle_printers_are_checked_so_staff_see_a_fault_before_a_citizen_does(api, sqlite_ctx, spooler, printer):
    use_printer(sqlite_ctx, printer)

    def status() -> tuple[str, str | None]:
        [device] = [d for d in api.get("/offices/mitte/devices", "clerk").get_json() if d["name"] == KIOSK]
        return device["printer"]["status"], device["printer"]["detail"]

    for mode, expected in [("paper_out", "paper_out"), ("paper_low", "paper_low"), ("refuse", "offline"),
                           ("ok", "ok")]:
        printer.mode = mode
        spooler.check_printers()
        assert status()[0] == expected, mode
    printer.mode = "refuse"
    spooler.check_printers()
    assert "refused" in status()[1]
    assert printer.jobs == []  # checking prints nothing

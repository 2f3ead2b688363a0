"""Printing after the commit: one background worker per printer, jobs in order, outcomes recorded.

Network and file printers are driven from here; a USB printer hangs on a kiosk PC, so its job goes to that
kiosk's agent over Socket.IO, and the agent's answer (or its silence) decides the outcome.
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from server.realtime import agents, socketio
from server.services import print_reads, printing
from server.services.printing import JobWork, PrintError

from .backends import probe, send
from .content import ticket_content
from .escpos_job import build_job, image_width
from .ticket_image import render_ticket

log = logging.getLogger(__name__)
AGENT_GRACE = 10.0  # seconds an agent has beyond the printer's own timeout to answer
STALE_AFTER = timedelta(minutes=2)  # a job older than this in queued/printing was orphaned by a restart


def render(content: dict, printer: dict) -> bytes:
    """The job's bytes: the ticket drawn for this printer's width, as ESC/POS (needs an app context)."""
    return build_job(render_ticket(ticket_content(content), image_width(printer)), printer)


class Spooler:
    """Takes job views after commit; never blocks the request that made them."""

    def __init__(self, app):
        self.app = app
        self._queues: dict[tuple[str, str], queue.Queue] = {}
        self._lock = threading.Lock()
        self.idle = threading.Condition()
        self._pending = 0

    def submit(self, job: dict | None) -> None:
        if not job or job["state"] != "queued":
            return
        key = (job["office"], job["device"])
        with self._lock:
            q = self._queues.get(key)
            if q is None:
                q = self._queues[key] = queue.Queue()
                socketio.start_background_task(self._work, q)
            self._pending += 1
        q.put(job["id"])

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every submitted job has been handled (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._pending == 0:
                    return True
            socketio.sleep(0.01)
        return False

    def _work(self, q: queue.Queue) -> None:
        while True:
            job_id = q.get()
            try:
                with self.app.app_context():
                    self.print_job(job_id)
            except Exception:  # one broken job must not stop this printer's worker
                log.exception("print job %s failed unexpectedly", job_id)
            finally:
                with self._lock:
                    self._pending -= 1

    def print_job(self, job_id: int) -> None:
        ctx = self.app.extensions["civicqueue"]
        work = printing.start(ctx, job_id)
        if work is None:
            return
        started = time.perf_counter()
        try:
            data = render(work.content, work.printer)
        except Exception as exc:
            log.exception("drawing the ticket of job %s failed", job_id)
            printing.finish(ctx, job_id, PrintError("render_failed", f"the ticket could not be drawn: {exc}"))
            return
        if work.printer.get("backend") == "usb":
            self._to_agent(ctx, work, data)
            return
        try:
            after = send(data, work.printer)
        except PrintError as error:
            log.warning("print job %s (%s on %s) failed: %s", job_id, work.code, work.device, error.message)
            printing.finish(ctx, job_id, error)
            return
        printing.finish(ctx, job_id, status=after)
        log.info("printed %s on %s (%d bytes, %.0f ms)", work.code, work.device, len(data),
                 (time.perf_counter() - started) * 1000)

    def _to_agent(self, ctx, work: JobWork, data: bytes) -> None:
        if not work.agent_connected:
            printing.finish(ctx, work.id, PrintError("agent_offline", f"the printer agent of kiosk '{work.device}' "
                                                                      "is not connected"))
            return
        agents.send_job(work.device_id, {"job": work.id, "ticket": work.code,
                                         "data": base64.b64encode(data).decode("ascii")})
        socketio.start_background_task(self._agent_deadline, work.id, work.device,
                                       float(work.printer.get("timeout", 5.0)) + AGENT_GRACE)

    def _agent_deadline(self, job_id: int, device: str, seconds: float) -> None:
        socketio.sleep(seconds)
        with self.app.app_context():
            printing.finish(self.app.extensions["civicqueue"], job_id,
                            PrintError("agent_timeout", f"the printer agent of kiosk '{device}' did not answer "
                                                        f"within {seconds:g} s"))

    def watch_printers(self, every: float, leads: Callable[[], bool] = lambda: True) -> None:
        """Ask idle network printers for their status now and then, so staff see paper out before a citizen does.

        With several processes only the cluster's leader (`leads()`) asks, and it also fails jobs orphaned by a
        process that died; the others only print their own jobs."""
        if every > 0:
            socketio.start_background_task(self._watch, every, leads)

    def _watch(self, every: float, leads: Callable[[], bool]) -> None:
        while True:
            socketio.sleep(every)
            if not leads():
                continue
            try:
                with self.app.app_context():
                    self.recover()
                    self.check_printers()
            except Exception:  # a database hiccup must not end the watch
                log.exception("checking the printers failed")

    def check_printers(self) -> None:
        ctx = self.app.extensions["civicqueue"]
        for device_id, office, name, printer in print_reads.network_printers(ctx):
            q = self._queues.get((office, name))
            if q is not None and not q.empty():
                continue  # printing right now tells us more than a probe would
            state, detail = probe(printer)
            printing.report_status(ctx, device_id, state, detail)

    def recover(self) -> None:
        """Jobs a dead process left unfinished are failed, so they show up for staff (at start-up, or when this
        process becomes the cluster's leader, and then with every printer check)."""
        ctx = self.app.extensions["civicqueue"]
        failed = printing.fail_stale(ctx, STALE_AFTER, PrintError(
            "interrupted", "the server stopped before this ticket was printed"))
        if failed:
            log.warning("%d unfinished print job(s) from before the restart marked failed", len(failed))

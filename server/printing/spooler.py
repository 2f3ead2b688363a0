"""Printing after the commit: one background worker per printer, jobs in order, outcomes recorded.

Network and file printers are driven from here; a USB printer hangs on a kiosk PC, so its job goes to that
kiosk's agent over Socket.IO, and the agent's answer (or its silence) decides the outcome.

A process that dies takes its queues and its agents' connections with it. The jobs it had not finished and the
agents it held are found by time: a worker vouches for its backlog each time it takes a job, every process
vouches for the agents it holds every AGENT_HEARTBEAT, and the cluster's leader fails what nobody vouched for.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from server.realtime import agents, namespaces, socketio
from server.services import print_reads, printing
from server.services.printing import JobWork, PrintError

from .backends import probe, send
from .content import ticket_content
from .escpos_job import build_job, image_width
from .ticket_image import render_ticket

log = logging.getLogger(__name__)
AGENT_GRACE = 10.0  # seconds an agent has beyond the printer's own timeout to answer
AGENT_HEARTBEAT = 30.0  # seconds between a process's vouching for the agent connections it holds
AGENT_SILENCE = timedelta(seconds=3 * AGENT_HEARTBEAT)  # an agent nobody vouched for this long is gone
INTERRUPTED = PrintError("interrupted", "the server stopped before this ticket was printed")


def render(content: dict, printer: dict) -> bytes:
    """The job's bytes: the ticket drawn for this printer's width, as ESC/POS (needs an app context)."""
    return build_job(render_ticket(ticket_content(content), image_width(printer)), printer)


class Spooler:
    """Takes job views after commit; never blocks the request that made them."""

    def __init__(self, app):
        self.app = app
        server = app.config["QMS_SETTINGS"].server
        # Older than this in queued or printing with nobody vouching: orphaned by a process that died.
        self.stale_after = timedelta(seconds=server.print_stale_seconds)
        self.recovery_seconds = float(server.print_recovery_seconds)
        self._queues: dict[tuple[str, str], queue.Queue] = {}
        self._waiting: dict[tuple[str, str], set[int]] = defaultdict(set)  # job ids in each queue
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
                socketio.start_background_task(self._work, key, q)
            self._pending += 1
            self._waiting[key].add(job["id"])
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

    def _work(self, key: tuple[str, str], q: queue.Queue) -> None:
        while True:
            job_id = q.get()
            with self._lock:
                self._waiting[key].discard(job_id)
                behind = tuple(self._waiting[key])
            try:
                with self.app.app_context():
                    self.print_job(job_id, behind)
            except Exception:  # one broken job must not stop this printer's worker
                log.exception("print job %s failed unexpectedly", job_id)
            finally:
                with self._lock:
                    self._pending -= 1

    def print_job(self, job_id: int, behind: tuple[int, ...] = ()) -> None:
        """Print one job; `behind`: the jobs still waiting in this printer's queue, which taking it vouches for."""
        ctx = self.app.extensions["civicqueue"]
        work = printing.start(ctx, job_id, behind)
        if work is None:  # taken elsewhere, or failed by recovery: never printed twice
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
        """The printing's background work. The cluster's leader (`leads()`) asks idle network printers for their
        status every `every` seconds (0: never), so staff see paper out before a citizen does, and recovers
        what dead processes left (`recover`) every `recovery_seconds`. Every process vouches for the kiosk
        agents connected to it."""
        if every > 0:
            socketio.start_background_task(self._every, every, self.check_printers, leads)
        socketio.start_background_task(self._every, self.recovery_seconds, self.recover, leads)
        socketio.start_background_task(self._every, AGENT_HEARTBEAT, self.vouch_for_agents, lambda: True)

    def _every(self, seconds: float, task: Callable[[], None], leads: Callable[[], bool]) -> None:
        while True:
            socketio.sleep(seconds)
            if not leads():
                continue
            try:
                with self.app.app_context():
                    task()
            except Exception:  # a database hiccup must not end the loop
                log.exception("background printing task %s failed", task.__name__)

    def check_printers(self) -> None:
        ctx = self.app.extensions["civicqueue"]
        for device_id, office, name, printer in print_reads.network_printers(ctx):
            q = self._queues.get((office, name))
            if q is not None and not q.empty():
                continue  # printing right now tells us more than a probe would
            state, detail = probe(printer)
            printing.report_status(ctx, device_id, state, detail)

    def recover(self) -> None:
        """Jobs a dead process left unfinished are failed, so they show up for staff and can be reprinted, and
        agents whose connection it held are marked gone (when this process becomes the cluster's leader, and
        then every `recovery_seconds`)."""
        ctx = self.app.extensions["civicqueue"]
        failed = printing.fail_stale(ctx, self.stale_after, INTERRUPTED)
        if failed:
            log.warning("%d print job(s) left unfinished by a stopped server process marked failed: %s",
                        len(failed), ", ".join(f"{v['ticket']['code']} ({v['device']})" for v in failed))
        gone = printing.forget_silent_agents(ctx, AGENT_SILENCE)
        if gone:
            log.warning("kiosk agent(s) not heard from for %g s marked disconnected: %s",
                        AGENT_SILENCE.total_seconds(), ", ".join(gone))

    def vouch_for_agents(self) -> None:
        """Mark the agents connected to this process as alive; close connections that are no longer current,
        so an agent wrongly taken for gone connects again at once."""
        held = namespaces.agent_connections()
        if not held:
            return
        stale = set(printing.agents_heard(self.app.extensions["civicqueue"], [(d, s) for _, d, s in held]))
        for sid, device_id, since in held:
            if (device_id, since) in stale:
                log.info("closing an outdated connection of the kiosk agent of device %s", device_id)
                with contextlib.suppress(Exception):  # it may have closed by itself meanwhile
                    socketio.server.disconnect(sid, namespace="/kiosk")

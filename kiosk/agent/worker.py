"""The one thread that touches the printer: jobs one at a time in arrival order, status checks in between."""

from __future__ import annotations

import base64
import binascii
import logging
import queue
import threading
import time
from collections.abc import Callable

from .backends import Backend, open_backend
from .printers import PrinterSpec, PrinterStatus, PrintFailure

log = logging.getLogger("civicqueue.agent")
NO_PRINTER = PrinterStatus("error", "no printer configured: pass --printer, or set the kiosk's printer on the server")
_STOP = object()


class PrintWorker:
    """Jobs, config changes and status requests from one queue; the status also every status_interval seconds."""

    def __init__(self, on_result: Callable[[dict], None], on_status: Callable[[PrinterStatus], None],
                 status_interval: float = 30.0, backend_for: Callable[[PrinterSpec], Backend] = open_backend):
        self.on_result, self.on_status = on_result, on_status
        self.status_interval, self.backend_for = status_interval, backend_for
        self.spec: PrinterSpec | None = None
        self._backend: Backend | None = None
        self._inbox: queue.Queue = queue.Queue()
        self._queued: set = set()  # job ids waiting, so a job delivered twice prints once
        self._queued_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True, name="agent-printer")
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._inbox.put(_STOP)
        if self._thread:
            self._thread.join(timeout)

    def submit(self, job: dict) -> None:
        with self._queued_lock:
            duplicate = job.get("job") in self._queued
            self._queued.add(job.get("job"))
        if duplicate:
            log.info("job %s is already queued; the second delivery is ignored", job.get("job"))
        else:
            self._inbox.put(("job", job))

    def configure(self, spec: PrinterSpec | None) -> None:
        self._inbox.put(("config", spec))

    def check_status(self) -> None:
        self._inbox.put(("status", None))

    def _run(self) -> None:
        while True:
            try:
                item = self._inbox.get(timeout=self.status_interval)
            except queue.Empty:
                self._report_status()
                continue
            if item is _STOP:
                break
            self._handle(*item)
        self._close_backend()

    def _handle(self, kind: str, payload) -> None:
        if kind == "job":
            self._print(payload)
            with self._queued_lock:
                self._queued.discard(payload.get("job"))
        elif kind == "config":
            self._use(payload)
        self._report_status()

    def _use(self, spec: PrinterSpec | None) -> None:
        if spec != self.spec:
            self._close_backend()
            self.spec, self._backend = spec, self.backend_for(spec) if spec else None
            log.debug("printer: %s", spec.describe() if spec else "none")

    def _print(self, job: dict) -> None:
        started, data = time.perf_counter(), b""
        try:
            data = _decode(job)
            if self._backend is None:
                raise PrintFailure("device_error", NO_PRINTER.detail)
            self._backend.write(data)
            result = {"job": job.get("job"), "ok": True, "error": None}
        except PrintFailure as failure:
            result = {"job": job.get("job"), "ok": False, "error": failure.payload()}
        except Exception as exc:  # a bug must not stop the printer thread; the server hears of it
            log.exception("job %s: unexpected error", job.get("job"))
            result = {"job": job.get("job"), "ok": False, "error": {"code": "device_error", "message": repr(exc)}}
        _log_job(job, len(data), result, time.perf_counter() - started)
        self.on_result(result)

    def _report_status(self) -> None:
        self.on_status(self._backend.status() if self._backend else NO_PRINTER)

    def _close_backend(self) -> None:
        if self._backend is not None:
            self._backend.close()


def _decode(job: dict) -> bytes:
    try:
        return base64.b64decode(job["data"], validate=True)
    except (KeyError, TypeError, binascii.Error) as exc:
        raise PrintFailure("device_error", f"the job's data is not valid base64 ({exc})") from exc


def _log_job(job: dict, size: int, result: dict, seconds: float) -> None:
    """One line per job; the ticket code is all it says about the ticket."""
    outcome = "printed" if result["ok"] else f"failed {result['error']['code']}: {result['error']['message']}"
    log.info("job %s ticket %s: %d bytes, %s in %.0f ms", job.get("job"), job.get("ticket"), size, outcome,
             seconds * 1000)

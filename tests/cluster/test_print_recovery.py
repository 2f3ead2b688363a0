"""Tickets a killed process had not printed: the other process's leader fails them as interrupted within a
bounded time, so the counters show them for a reprint, and leaves its own live backlog alone."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from server.config import ROOT
from tests.support.fake_printer import FakePrinter

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PRINTER_TIMEOUT = 3  # seconds a hanging printer holds a worker per job
# Recovery at test speed; a stale limit above the printer's timeout, as the README asks of deployments.
FAST_RECOVERY = {"QMS_PRINT_STALE_SECONDS": "4", "QMS_PRINT_RECOVERY_SECONDS": "1"}


def set_printer(cluster, printer: FakePrinter) -> None:
    done = subprocess.run([sys.executable, "-m", "server", "printer", "set", "kiosk-eingang", "--office", "mitte",
                           "--backend", "network", "--host", "127.0.0.1", "--port", str(printer.port),
                           "--timeout", str(PRINTER_TIMEOUT)],
                          cwd=ROOT, env=cluster.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def issue(cluster, process) -> dict:
    resp = cluster.post(process, "/offices/mitte/tickets", "KIOSK", service="ausweis")
    assert resp.status_code == 201, resp.text
    return resp.json()["print"]


def outcomes(cluster, process, jobs: list[dict], within: float) -> dict[int, dict]:
    """The jobs' views once all have printed or failed (or as they are after `within` seconds)."""
    deadline = time.monotonic() + within
    while True:
        views = {job["id"]: cluster.get(process, f"/print-jobs/{job['id']}", "CLERK").json() for job in jobs}
        if all(v["state"] in ("printed", "failed") for v in views.values()) or time.monotonic() > deadline:
            return views
        time.sleep(0.2)


def test_jobs_a_killed_process_left_are_failed_by_the_other_and_its_own_backlog_is_not(make_cluster):
    cluster = make_cluster(0)
    a, b = cluster.add(**FAST_RECOVERY), cluster.add(**FAST_RECOVERY)
    for process in (a, b):
        process.wait_ready()
    with FakePrinter(mode="hang") as printer:
        set_printer(cluster, printer)
        printing = issue(cluster, b)
        printer.wait_for_connections(1)  # b's worker is held by the first job...
        waiting = issue(cluster, b)  # ...so the second is committed and queued in b's memory only
        b.kill9()
        killed = time.monotonic()

        backlog = [issue(cluster, a) for _ in range(3)]  # ~3 × PRINTER_TIMEOUT: the last waits past the limit
        orphans = outcomes(cluster, a, [printing, waiting], within=20)
        settled = time.monotonic() - killed
        print(f"\njobs of the killed process failed as interrupted after {settled:.1f} s")
        assert orphans[waiting["id"]]["state"] == "failed", a.log_text()
        assert orphans[waiting["id"]]["error"]["code"] == "interrupted"
        assert orphans[printing["id"]]["state"] == "failed"
        assert settled < 15

        lived = outcomes(cluster, a, backlog, within=4 * PRINTER_TIMEOUT + 5)
    for view in lived.values():  # each tried on the hanging printer, in turn, by a's worker
        assert view["state"] == "failed" and view["error"]["code"] == "timeout", view

"""GET /healthz for monitoring: the database, the message queue and the printers, answered from stored state.

status "ok" (200): all is well. "degraded" (200): the process serves requests, but something needs a person: a
printer out of paper or offline, a kiosk's printer agent gone, or the message queue (Redis) away, so live
updates reach only clients of the process that made them. "down" (503): this process cannot serve (no
database). A load balancer may take a process out on 503; monitoring should alert on anything but "ok".
Nothing here talks to a printer: printer status is what the printer checks and agents last stored.
"""

from __future__ import annotations

import logging
import os
from collections import Counter, defaultdict
from datetime import datetime

from flask import current_app, jsonify
from sqlalchemy import select, text

from server import __version__
from server.db.models import Device, Office
from server.queue.numbering import utc_now

log = logging.getLogger(__name__)
PRINTER_PROBLEMS = frozenset({"paper_out", "offline", "error", "agent_offline"})


def healthz():
    """Health of this process and what it depends on, for monitoring (public; no names of devices or people)."""
    ctx = current_app.extensions["civicqueue"]
    checks, printers = {"database": _database(ctx.db)}, {}
    probe = current_app.extensions.get("civicqueue_redis_probe")
    if probe is not None:
        checks["message_queue"] = "ok" if probe() else "unavailable"
    if checks["database"] == "ok":
        printers = _printers(ctx.db)
        problems = printers is None or any(state in PRINTER_PROBLEMS for c in printers.values() for state in c)
        checks["printers"] = "unknown" if printers is None else "degraded" if problems else "ok"
    status = ("down" if checks["database"] != "ok" else
              "ok" if all(v == "ok" for v in checks.values()) else "degraded")
    leadership = current_app.extensions["civicqueue_cluster"]
    body = {"status": status, "version": __version__, "time": datetime.isoformat(utc_now()), "checks": checks,
            "printers": printers or {}, "process": {"pid": os.getpid(), "leader": leadership.is_leader}}
    return jsonify(body), 503 if status == "down" else 200


def _database(db) -> str:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any failure of the database is reported, not raised
        log.warning("health check: database down: %s", exc)
        return "unavailable"


def _printers(db) -> dict[str, dict[str, int]] | None:
    """Per office, how many printers are in each state (a USB printer whose kiosk agent is gone: agent_offline)."""
    query = (select(Office.slug, Device.printer, Device.printer_status, Device.agent_connected)
             .join(Device.office).where(Device.kind == "kiosk").order_by(Office.slug))
    counts: dict[str, Counter] = defaultdict(Counter)
    try:
        with db.read_session() as session:
            for office, printer, status, agent_connected in session.execute(query):
                backend = (printer or {}).get("backend", "none")
                if backend != "none":
                    counts[office]["agent_offline" if backend == "usb" and not agent_connected else status] += 1
    except Exception as exc:  # the database failed between the two checks: report it as unknown
        log.warning("health check: cannot read printer status: %s", exc)
        return None
    return {office: dict(c) for office, c in counts.items()}

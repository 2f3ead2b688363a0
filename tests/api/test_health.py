"""GET /healthz: database, message queue and printers, answered from stored state (200 ok/degraded, 503 down)."""

from __future__ import annotations

import time
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from server.db.models import Device
from server.message_queue import RedisProbe
from server.services.printing import report_status, set_printer
from tests.support.server_proc import free_port


def kiosk_with_printer(ctx, backend: str = "network") -> int:
    settings = {"backend": backend}
    if backend == "network":
        settings |= {"host": "192.0.2.10", "port": 9100}
    set_printer(ctx, "mitte", "kiosk-eingang", settings)
    with ctx.db.read_session() as session:
        return session.scalars(select(Device.id).where(Device.name == "kiosk-eingang")).one()


def health(api) -> tuple[int, dict]:
    resp = api.client.get("/healthz")
    return resp.status_code, resp.get_json()


def test_a_printer_out_of_paper_makes_the_server_degraded_not_down(api, sqlite_ctx):
    report_status(sqlite_ctx, kiosk_with_printer(sqlite_ctx), "paper_out")
    status, body = health(api)
    assert (status, body["status"], body["checks"]["printers"]) == (200, "degraded", "degraded")
    assert body["checks"]["database"] == "ok"
    assert body["printers"] == {"mitte": {"paper_out": 1}}  # counts only: no device names on a public page


def test_a_ready_printer_is_ok(api, sqlite_ctx):
    report_status(sqlite_ctx, kiosk_with_printer(sqlite_ctx), "ok")
    status, body = health(api)
    assert (status, body["status"], body["printers"]) == (200, "ok", {"mitte": {"ok": 1}})


def test_a_usb_printer_whose_kiosk_agent_is_gone_is_reported(api, sqlite_ctx):
    kiosk_with_printer(sqlite_ctx, backend="usb")
    status, body = health(api)
    assert (status, body["status"], body["printers"]) == (200, "degraded", {"mitte": {"agent_offline": 1}})


class UnreachableEngine:
    """An engine whose database is gone: every connect fails as psycopg's would."""

    def connect(self):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))


class UnreachableDatabase:
    engine = UnreachableEngine()

    def read_session(self):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))


def test_without_the_database_the_process_is_down_with_503(api, app):
    app.extensions["civicqueue"] = replace(app.extensions["civicqueue"], db=UnreachableDatabase())
    status, body = health(api)
    assert (status, body["status"], body["checks"]["database"]) == (503, "down", "unavailable")
    assert {"version", "time", "checks", "process"} <= body.keys()


def test_redis_away_is_degraded_and_answered_quickly(api, app):
    app.extensions["civicqueue_redis_probe"] = RedisProbe(f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    status, body = health(api)
    assert time.monotonic() - started < 2
    assert (status, body["status"], body["checks"]["message_queue"]) == (200, "degraded", "unavailable")

"""`python -m server stats rebuild`: recomputes the statistics cache from the events."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

from sqlalchemy import select

from server.config import ROOT
from server.db import Database
from server.db.models import DailyStats, Office
from server.queue import Action
from server.services import actions, issuing
from server.services.context import Context
from server.services.uow import Actor
from server.stats.report import office_stats
from tests.support import databases
from tests.support.fakes import FakeClock
from tests.support.server_proc import ServerProcess

ADMIN = Actor(role="admin", name="test")


def run_cli(server: ServerProcess, *args):
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=server.env, capture_output=True,
                          text=True, timeout=120)


def test_stats_rebuild_recomputes_the_cached_days(tmp_path):
    server = ServerProcess(tmp_path, databases.new_sqlite_url(tmp_path))
    server.cli("init", "--demo")
    db = Database(server.env["QMS_DATABASE_URL"])
    try:
        clock = FakeClock(datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
        ctx = Context(db=db, clock=clock)
        ticket = issuing.issue_ticket(ctx, ADMIN, "mitte", "ausweis")[0]
        actions.act(ctx, ADMIN, ticket["id"], Action.CANCEL)
        clock.set(datetime(2026, 5, 6, 8, 0, tzinfo=UTC))
        office_stats(ctx, ADMIN, "mitte", date(2026, 5, 4), date(2026, 5, 5))  # caches the 4th and 5th
        with db.write_session() as session:
            session.execute(DailyStats.__table__.update().values(data={}))
            session.commit()
        done = run_cli(server, "stats", "rebuild", "--office", "mitte", "--from", "2026-05-01", "--to", "2026-05-05")
        assert done.returncode == 0, done.stderr
        assert "mitte: 2026-05-04 to 2026-05-05" in done.stdout and "2 closed day(s) cached again" in done.stdout
        with db.read_session() as session:
            office_id = session.scalar(select(Office.id).where(Office.slug == "mitte"))
            rows = session.scalars(select(DailyStats).where(DailyStats.office_id == office_id,
                                                            DailyStats.day == date(2026, 5, 4))).all()
        assert sum(r.data["counts"]["issued"] for r in rows) == 1
        bad = run_cli(server, "stats", "rebuild", "--from", "2026-05-05", "--to", "2026-05-01")
        assert bad.returncode == 2 and "--from must not be after --to" in bad.stderr
        assert "Traceback" not in bad.stderr
    finally:
        db.dispose()

"""`python -m server retention` as an operator (or the daily timer) runs it: status, dry run, run, run again,
and exit code 2 with a clear message for bad input."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.config import ROOT
from server.db import Database
from server.db.models import DailyStats, Office, Service, Ticket
from server.queue import Action
from server.services.actions import act
from server.services.calling import call_ticket
from server.services.context import Context
from server.services.issuing import issue_ticket
from server.services.uow import SYSTEM
from server.stats.kpis import office_kpis
from tests.support import databases
from tests.support.fakes import FakeClock
from tests.support.server_proc import ServerProcess


def run_cli(server: ServerProcess, *args, env=None):
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env={**server.env, **(env or {})},
                          capture_output=True, text=True, timeout=120)


def served_ticket(db: Database, at: datetime) -> dict:
    ctx = Context(db=db, clock=FakeClock(at))
    ticket = issue_ticket(ctx, SYSTEM, "mitte", "ausweis")[0]
    ctx.clock.advance(minutes=12)
    call_ticket(ctx, SYSTEM, "mitte", "schalter-1", ticket["id"])
    ctx.clock.advance(minutes=1)
    act(ctx, SYSTEM, ticket["id"], Action.START)
    ctx.clock.advance(minutes=7)
    act(ctx, SYSTEM, ticket["id"], Action.FINISH)
    return ticket


@pytest.fixture
def server(tmp_path):
    """The demo office with a ticket served 50 days ago and one served yesterday."""
    proc = ServerProcess(tmp_path, databases.new_sqlite_url(tmp_path))
    proc.cli("init", "--demo")
    db = Database(proc.env["QMS_DATABASE_URL"])
    now = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    proc.old_day = (now - timedelta(days=50)).date()
    served_ticket(db, now - timedelta(days=50))
    served_ticket(db, now - timedelta(days=1))
    proc.db = db
    yield proc
    db.dispose()


def tickets(server) -> int:
    with server.db.read_session() as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def old_day_stats(server) -> dict:
    with server.db.read_session() as session:
        office = session.scalars(select(Office).where(Office.slug == "mitte")).one()
        kpis = office_kpis(session, office, server.old_day, server.old_day)
    return {"issued": kpis["total"]["issued"], "served": kpis["total"]["served"],
            "wait": kpis["total"]["wait_minutes"]["mean"], "service": kpis["total"]["service_minutes"]["mean"]}


def test_status_dry_run_run_and_run_again(server):
    status = run_cli(server, "retention", "status", "--days", "30")
    assert status.returncode == 0, status.stderr
    mitte = next(line.split() for line in status.stdout.splitlines() if line.startswith("mitte"))
    assert mitte[1] == "never" and mitte[3:5] == ["1", str(server.old_day)]

    dry = run_cli(server, "retention", "run", "--days", "30", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and "would delete 1 ticket(s)" in dry.stdout
    assert tickets(server) == 2
    before = old_day_stats(server)
    assert before == {"issued": 1, "served": 1, "wait": 12.0, "service": 7.0}

    done = run_cli(server, "retention", "run", "--days", "30")
    assert done.returncode == 0, done.stderr
    assert "mitte: details before" in done.stdout and "deleted 1 ticket(s)" in done.stdout
    assert "staff sessions: 0 deleted" in done.stdout
    assert tickets(server) == 1 and old_day_stats(server) == before

    again = run_cli(server, "retention", "run", "--days", "30")
    assert again.returncode == 0 and "mitte: nothing to do" in again.stdout
    after = run_cli(server, "retention", "status", "--days", "30")
    mitte = next(line.split() for line in after.stdout.splitlines() if line.startswith("mitte"))
    assert mitte[1] != "never" and mitte[3] == "0"


def test_the_period_comes_from_the_configuration(server, tmp_path):
    config = tmp_path / "retention.toml"
    config.write_text("[server]\nretention_days = 60\n")
    kept = run_cli(server, "retention", "run", env={"QMS_CONFIG": str(config)})
    assert kept.returncode == 0 and "retention: 60 days" in kept.stdout and tickets(server) == 2
    assert run_cli(server, "retention", "run", "--office", "mitte").stdout.startswith("retention: 90 days")
    config.write_text("[server]\nretention_days = 40\n")
    done = run_cli(server, "retention", "run", "--office", "mitte", env={"QMS_CONFIG": str(config)})
    assert "deleted 1 ticket(s)" in done.stdout and "staff sessions" not in done.stdout and tickets(server) == 1


@pytest.mark.parametrize(("args", "config", "message"), [
    (["run", "--days", "0"], None, "--days"),
    (["run", "--days", "ninety"], None, "--days"),
    (["status", "--days", "4000"], None, "--days"),
    (["run", "--office", "nowhere"], None, "no office 'nowhere'"),
    (["run"], "[server]\nretention_days = 0\n", "server.retention_days: must be a whole number of days from 1 to 3650"),
    (["status"], "[server]\nretention_days = \"90\"\n", "server.retention_days"),
])
def test_bad_input_exits_2_with_a_clear_message_and_changes_nothing(server, tmp_path, args, config, message):
    env = {}
    if config:
        (tmp_path / "bad.toml").write_text(config)
        env["QMS_CONFIG"] = str(tmp_path / "bad.toml")
    done = run_cli(server, "retention", *args, env=env)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and tickets(server) == 2


def test_a_database_failure_exits_1_and_leaves_the_office_as_it_was(server):
    with server.db.write_session() as session:  # a row in the way of the old day's aggregate
        office = session.scalars(select(Office).where(Office.slug == "mitte")).one()
        service_id = session.scalar(select(Service.id).where(Service.office_id == office.id,
                                                             Service.slug == "ausweis"))
        # filed under another office, so the purge does not take it for mitte's statistics cache and replace it
        other = Office(slug="other", name="Other", timezone=office.timezone)
        session.add(other)
        session.flush()
        session.add(DailyStats(service_id=service_id, day=server.old_day, office_id=other.id, data={},
                               created_at=datetime.now(UTC)))
        session.commit()
    done = run_cli(server, "retention", "run", "--days", "30")
    assert done.returncode == 1 and "the database failed" in done.stderr and "Run it again" in done.stderr
    assert "Traceback" not in done.stderr and tickets(server) == 2

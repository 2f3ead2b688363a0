"""The display's list of today's latest calls: the right ones, and read without touching the rest of the day."""

from __future__ import annotations

from sqlalchemy import select

from server.db.models import Event, Office
from server.queue import Action
from server.realtime.snapshots import RECENT_CALLS, recent_calls
from server.services import actions, calling, issuing
from server.services.uow import Actor

ADMIN = Actor(role="admin", name="test")
COUNTERS = ["schalter-1", "schalter-2", "schalter-3"]


def _calls_of_the_day(ctx, n: int) -> None:
    """n tickets issued and called, every third one recalled; the clock stands still (equal times)."""
    for i in range(n):
        issuing.issue_ticket(ctx, ADMIN, "mitte", "ausweis")
        ticket = calling.call_next(ctx, ADMIN, "mitte", COUNTERS[i % len(COUNTERS)])
        if i % 3 == 0:
            actions.act(ctx, ADMIN, ticket["id"], Action.RECALL)
        actions.act(ctx, ADMIN, ticket["id"], Action.START)
        actions.act(ctx, ADMIN, ticket["id"], Action.FINISH)


def _expected(ctx, office_id: int, since) -> list[int]:
    with ctx.db.read_session() as session:
        return list(session.scalars(
            select(Event.seq).where(Event.office_id == office_id, Event.kind.in_(["called", "recalled"]),
                                    Event.at >= since).order_by(Event.seq.desc()).limit(RECENT_CALLS)))


def test_the_latest_calls_and_recalls_of_today_newest_first(ctx, clock):
    _calls_of_the_day(ctx, 6)  # yesterday's calls are left out
    clock.advance(days=1)
    today = clock()
    _calls_of_the_day(ctx, RECENT_CALLS + 4)
    with ctx.db.read_session() as session:
        office = session.scalars(select(Office).where(Office.slug == "mitte")).one()
        calls = recent_calls(session, office, clock())
    assert [c["seq"] for c in calls] == _expected(ctx, office.id, today)
    assert len(calls) == RECENT_CALLS and any(c["recall"] for c in calls) and not all(c["recall"] for c in calls)


def test_a_new_day_starts_with_no_calls(ctx, clock):
    _calls_of_the_day(ctx, 3)
    clock.advance(days=1)
    with ctx.db.read_session() as session:
        office = session.scalars(select(Office).where(Office.slug == "mitte")).one()
        assert recent_calls(session, office, clock()) == []


def test_calls_are_read_from_the_index_newest_first(sqlite_db):
    """Each kind's newest calls come from ix_events_office_kind_at within today; the plan before read every call
    of the office from it and sorted them all, so a display refresh grew with the day (2,000 rows at its end)."""
    from datetime import UTC, datetime

    from server.realtime import snapshots

    office = Office(id=1, slug="x", name="x", timezone="Europe/Berlin")
    captured = []

    class Capture:
        def execute(self, statement, params=None):
            captured.append((statement, params or {}))
            return _NoRows()

    snapshots.recent_calls(Capture(), office, datetime(2026, 11, 27, 9, tzinfo=UTC))
    statement, params = captured[0]
    compiled = statement.compile(dialect=sqlite_db.engine.dialect)
    values = compiled.construct_params(params)
    with sqlite_db.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                    tuple(values[name] for name in compiled.positiontup)).all()
    plan = "\n".join(row[-1] for row in rows)
    assert plan.count("USING INDEX ix_events_office_kind_at (office_id=? AND kind=? AND at>?)") == 2, plan
    assert "SCAN events" not in plan, plan


class _NoRows:
    def all(self):
        return []

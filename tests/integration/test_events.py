"""Rules 3 and 4: every change appends an event with the office's next seq; publish only after commit."""

import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from server.db.models import Event, Ticket
from server.queue import Action, InvalidTransition
from server.queue.policy import Candidate, Policy, people_ahead
from server.services.actions import act
from server.services.calling import call_next, call_ticket, set_counter_state
from server.services.errors import NotFound
from server.services.issuing import issue_ticket
from server.services.uow import SYSTEM
from server.services.views import count_ahead


def issue(ctx, service="ausweis"):
    return issue_ticket(ctx, SYSTEM, "mitte", service)[0]


def events(ctx):
    with ctx.db.read_session() as s:
        return s.scalars(select(Event).order_by(Event.id)).all()


def test_a_ticket_life_is_logged_step_by_step_with_contiguous_seq(ctx, clock, published):
    t = issue(ctx)
    clock.advance(minutes=7)
    call_next(ctx, SYSTEM, "mitte", "schalter-1")
    clock.advance(seconds=30)
    act(ctx, SYSTEM, t["id"], Action.RECALL)
    clock.advance(seconds=40)
    act(ctx, SYSTEM, t["id"], Action.START)
    clock.advance(minutes=9)
    done = act(ctx, SYSTEM, t["id"], Action.FINISH)

    log = events(ctx)
    assert [e.kind for e in log] == ["issued", "counter_opened", "called", "recalled", "started", "finished"]
    assert [e.seq for e in log] == [1, 2, 3, 4, 5, 6]
    assert [e.seq for e in published.events] == [1, 2, 3, 4, 5, 6]
    assert all(e.ticket_id == t["id"] for e in log if e.kind != "counter_opened")
    at = {e.kind: e.at for e in log}
    assert at["called"] - at["issued"] == timedelta(minutes=7)         # wait time
    assert at["started"] - at["recalled"] == timedelta(seconds=40)     # walk time after the recall
    assert at["finished"] - at["started"] == timedelta(minutes=9)      # service time
    assert done["called_at"] < done["started_at"] < done["finished_at"]


def test_refused_transition_changes_nothing_and_publishes_nothing(ctx, published):
    t = issue(ctx)
    published.events.clear()
    with pytest.raises(InvalidTransition):
        act(ctx, SYSTEM, t["id"], Action.FINISH)
    assert published.events == []
    assert [e.kind for e in events(ctx)] == ["issued"]
    with ctx.db.read_session() as s:
        assert s.get(Ticket, t["id"]).state == "waiting"


def test_a_failure_after_writing_rolls_everything_back(ctx, published):
    issue(ctx)
    published.events.clear()
    with pytest.raises(NotFound):
        # Opens the counter (an event is written), then fails on the unknown ticket: all of it rolls back.
        call_ticket(ctx, SYSTEM, "mitte", "schalter-2", 999_999)
    assert published.events == []
    with ctx.db.read_session() as s:
        assert [e.kind for e in s.scalars(select(Event))] == ["issued"]


def test_event_log_is_append_only_in_the_database(ctx):
    issue(ctx)
    for stmt in (update(Event).values(kind="tampered"), delete(Event)):
        with ctx.db.write_session() as s, pytest.raises(DBAPIError) as info:
            s.execute(stmt)
            s.commit()
        assert "append-only" in str(info.value)
    assert [e.kind for e in events(ctx)] == ["issued"]


def test_setting_a_counter_to_its_state_logs_nothing(ctx):
    set_counter_state(ctx, SYSTEM, "mitte", "schalter-1", "open")
    set_counter_state(ctx, SYSTEM, "mitte", "schalter-1", "open")
    set_counter_state(ctx, SYSTEM, "mitte", "schalter-1", "paused")
    assert [e.kind for e in events(ctx)] == ["counter_opened", "counter_paused"]


def test_seq_is_per_office(ctx):
    issue(ctx)
    issue_ticket(ctx, SYSTEM, "nord", "allgemein")
    issue(ctx)
    assert [(e.office_id, e.seq) for e in events(ctx)] == [(1, 1), (2, 1), (1, 2)]


def test_sql_position_agrees_with_the_pure_policy(ctx, clock):
    rng = random.Random(7)
    ids = []
    for _ in range(40):
        clock.advance(minutes=rng.randint(0, 3))
        ids.append(issue_ticket(ctx, SYSTEM, "mitte", rng.choice(["ausweis", "abholung"]),
                                priority_class=rng.choice([0, 0, 0, 1, 3]))[0]["id"])
    for tid in rng.sample(ids, 8):
        act(ctx, SYSTEM, tid, Action.TRANSFER, service="ausweis", position=rng.choice(["front", "back"]))
    clock.advance(minutes=25)  # some tickets are now past the 30 and 10 minute targets
    with ctx.db.read_session() as s:
        tickets = s.scalars(select(Ticket).where(Ticket.state == "waiting")).all()
        cands = [Candidate(id=t.id, service_id=t.service_id, created_at=t.created_at, enqueued_at=t.enqueued_at,
                           priority_class=t.priority_class,
                           target_wait=timedelta(minutes=t.service.target_wait_minutes)) for t in tickets]
        by_id = {c.id: c for c in cands}
        now, policy = clock(), Policy()
        for t in tickets:
            assert count_ahead(s, t, now, policy) == people_ahead(by_id[t.id], cands, now, policy), t.code


def test_transfer_front_and_back_and_to_a_counter(ctx):
    a1, a2, a3 = issue(ctx), issue(ctx), issue(ctx)
    b1 = issue(ctx, "meldewesen")
    act(ctx, SYSTEM, b1["id"], Action.TRANSFER, service="ausweis", position="front")
    assert call_next(ctx, SYSTEM, "mitte", "schalter-1")["id"] == b1["id"]
    moved = act(ctx, SYSTEM, a1["id"], Action.TRANSFER, counter="schalter-4", position="back")
    assert moved["target_counter"] == "schalter-4" and moved["state"] == "waiting"
    assert call_next(ctx, SYSTEM, "mitte", "schalter-1")["id"] == a2["id"]  # a1 is only for schalter-4
    assert call_next(ctx, SYSTEM, "mitte", "schalter-4")["id"] == a1["id"]
    last = act(ctx, SYSTEM, a2["id"], Action.TRANSFER, service="ausweis", position="back")
    assert last["position"] == 2
    assert call_next(ctx, SYSTEM, "mitte", "schalter-1")["id"] == a3["id"]


def test_park_then_call_back_and_requeue(ctx):
    t = issue(ctx)
    call_next(ctx, SYSTEM, "mitte", "schalter-1")
    act(ctx, SYSTEM, t["id"], Action.START)
    assert act(ctx, SYSTEM, t["id"], Action.PARK)["state"] == "parked"
    assert call_next(ctx, SYSTEM, "mitte", "schalter-1") is None  # parked tickets are not in the queue
    back = call_ticket(ctx, SYSTEM, "mitte", "schalter-2", t["id"])
    assert (back["state"], back["counter"], back["call_count"]) == ("called", "schalter-2", 2)
    again = act(ctx, SYSTEM, t["id"], Action.REQUEUE, position="front")
    assert (again["state"], again["counter"], again["position"]) == ("waiting", None, 1)


def test_pg_and_sqlite_store_utc(ctx, clock):
    t = issue(ctx)
    with ctx.db.read_session() as s:
        stored = s.get(Ticket, t["id"]).created_at
        assert stored == clock() and stored.utcoffset() == timedelta(0)
        if ctx.db.dialect == "postgresql":
            assert s.execute(text("SHOW timezone")).scalar() is not None

"""Call-next reads only the heads of a counter's queues; its pick must be the one the policy makes over the
whole queue (overdue tickets, priority classes, the counter's service order, transfers to it)."""

from __future__ import annotations

import random

from server.db.models import Counter
from server.queue import Action
from server.queue.policy import CounterServices, Policy, rank
from server.services import actions, calling, issuing, views
from server.services.lookup import office_by_slug
from server.services.uow import Actor
from server.services.views import waiting_candidates

ADMIN = Actor(role="admin", name="test")
SERVICES = ["ausweis", "meldewesen", "abholung", "beglaubigung"]
COUNTERS = ["schalter-1", "schalter-2", "schalter-3", "schalter-4"]


def expected_pick(ctx, counter_slug: str) -> int | None:
    """The policy's choice over every waiting ticket, as the counter state shows it."""
    with ctx.db.read_session() as session:
        office = office_by_slug(session, "mitte")
        counter = session.query(Counter).filter_by(office_id=office.id, slug=counter_slug).one()
        levels = CounterServices(counter.id, {link.service_id: link.level for link in counter.links})
        ranked = rank(waiting_candidates(session, office.id), levels, ctx.clock(), Policy.from_dict(office.policy))
        return ranked[0].id if ranked else None


def test_call_next_picks_what_the_policy_picks_over_the_whole_queue(ctx, clock):
    rng = random.Random(7)
    for i in range(120):
        clock.advance(seconds=rng.randint(5, 90))
        issuing.issue_ticket(ctx, ADMIN, "mitte", rng.choice(SERVICES), priority_class=rng.choice([0, 0, 0, 1, 2]))
        if i % 7 == 0:  # now and then a ticket is called and sent on: to another counter or another service
            counter = rng.choice(COUNTERS)
            called = calling.call_next(ctx, ADMIN, "mitte", counter)
            if called:
                how = rng.choice(["counter", "service"])
                target = {"counter": rng.choice(COUNTERS)} if how == "counter" else {"service": rng.choice(SERVICES)}
                actions.act(ctx, ADMIN, called["id"], Action.TRANSFER, **target)
    clock.advance(minutes=25)  # some tickets are past their service's target wait now
    picks = 0
    while True:
        counter = rng.choice(COUNTERS)
        want = expected_pick(ctx, counter)
        got = calling.call_next(ctx, ADMIN, "mitte", counter)
        assert (got and got["id"]) == want
        if got is None and all(expected_pick(ctx, c) is None for c in COUNTERS):
            break
        picks += got is not None
        clock.advance(seconds=rng.randint(1, 30))
    assert picks > 100


def _sqlite_plan(db, statement, params: dict) -> str:
    """SQLite's EXPLAIN QUERY PLAN of a statement, one line per step."""
    compiled = statement.compile(dialect=db.engine.dialect)
    values = compiled.params | params
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                    tuple(values[name] for name in compiled.positiontup))
        return "\n".join(row[-1] for row in rows)


def _heads_plan(db, n_services: int) -> str:
    """The database's plan for the heads of n service queues (PostgreSQL: with sorting made prohibitive, so a
    Sort node in it means no index can give the calling order)."""
    statement = views._heads_statement(n_services)
    params = {"office_id": 1, "counter_id": 1, "limit": 16} | {f"s{i}": i + 1 for i in range(n_services)}
    if db.dialect == "sqlite":
        return _sqlite_plan(db, statement, params)
    compiled = statement.compile(dialect=db.engine.dialect)
    with db.engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + str(compiled), compiled.params | params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_queue_heads_are_read_in_index_order(db):
    """Each service queue's head comes from an index in calling order and in age order; only the counter's own
    short list of transferred tickets is sorted. (Before migration 0008 PostgreSQL sorted every waiting ticket
    of each service per call-next: `target_counter_id IS NULL` as an index column blocked the order.)"""
    plan = _heads_plan(db, 3)
    if db.dialect == "sqlite":
        assert plan.count("USING INDEX ix_tickets_fifo") == 3 and plan.count("USING INDEX ix_tickets_age") == 3, plan
        assert plan.count("TEMP B-TREE FOR ORDER BY") == 1, plan
    else:
        assert plan.count("using ix_tickets_fifo") == 3 and plan.count("using ix_tickets_age") == 3, plan
        assert plan.count("Sort  (") == 1, plan


def test_sqlite_counts_the_tickets_ahead_of_a_new_one_from_the_index_alone(sqlite_db):
    """Issuing counts the waiting tickets ahead of the new one; read from the table, that count grew slower with
    every waiting ticket (issue throughput fell from ~300 to ~160/s over a 20 s benchmark)."""
    plan = _sqlite_plan(sqlite_db, issuing._AHEAD_OF_NEW, {"service_id": 1, "cls": 0})
    assert "USING COVERING INDEX ix_tickets_fifo" in plan, plan

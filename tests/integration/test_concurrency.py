"""DESIGN rules 1, 2 and 5 under real concurrency, on SQLite and PostgreSQL."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from sqlalchemy import func, select

from server.config import CounterConfig
from server.db import Database
from server.db.models import Event, Ticket
from server.services.calling import call_next
from server.services.issuing import issue_ticket
from server.services.layout import create_counter
from server.services.uow import SYSTEM

SERVICES = ["ausweis", "meldewesen", "abholung", "beglaubigung"]


def _issue_many(ctx, n):
    return [issue_ticket(ctx, SYSTEM, "mitte", SERVICES[i % 4])[0]["id"] for i in range(n)]


def test_fifty_counters_never_get_the_same_ticket(ctx):
    # One connection per counter thread, as 50 server workers would have.
    ctx = replace(ctx, db=Database(ctx.db.url, pool_size=50, max_overflow=5))
    issued = _issue_many(ctx, 2000)
    counters = [f"platz-{i:02d}" for i in range(50)]
    for slug in counters:
        create_counter(ctx, SYSTEM, "mitte", CounterConfig(slug=slug, name=slug, services=SERVICES))

    def drain(slug):
        got = []
        while (ticket := call_next(ctx, SYSTEM, "mitte", slug)) is not None:
            got.append(ticket["id"])
        return got

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(drain, counters))

    called = [tid for got in results for tid in got]
    duplicates = [tid for tid, n in Counter(called).items() if n > 1]
    assert duplicates == []
    assert sorted(called) == sorted(issued)
    assert sum(1 for got in results if got) > 1, "the test must really run counters side by side"
    with ctx.db.read_session() as s:
        assert s.scalar(select(func.count()).where(Ticket.state == "waiting")) == 0
        assert s.scalar(select(func.count()).select_from(Ticket).where(Ticket.call_count == 1)) == 2000
        assert s.scalar(select(func.count(func.distinct(Event.ticket_id))).where(Event.kind == "called")) == 2000


def test_concurrent_kiosks_get_unique_gap_free_numbers(ctx):
    def kiosk(k):
        return [issue_ticket(ctx, SYSTEM, "mitte", SERVICES[(k + i) % 2])[0]["code"] for i in range(40)]

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = [c for batch in pool.map(kiosk, range(20)) for c in batch]

    assert len(codes) == len(set(codes)) == 800
    for prefix in ("A", "B"):
        numbers = sorted(int(c[1:]) for c in codes if c.startswith(prefix))
        assert numbers == list(range(1, 401))


def test_same_request_id_sent_twice_makes_one_ticket(ctx):
    first, created = issue_ticket(ctx, SYSTEM, "mitte", "ausweis", request_id="tap-1")
    again, created_again = issue_ticket(ctx, SYSTEM, "mitte", "ausweis", request_id="tap-1")
    assert (created, created_again) == (True, False)
    assert again["id"] == first["id"] and again["code"] == "A001"


def test_same_request_id_racing_from_many_threads_makes_one_ticket(ctx):
    def tap(_):
        return issue_ticket(ctx, SYSTEM, "mitte", "ausweis", request_id="double-tap")[0]["id"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = set(pool.map(tap, range(30)))

    assert len(ids) == 1
    with ctx.db.read_session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
        assert s.scalar(select(func.count()).where(Event.kind == "issued")) == 1

"""Two live processes sharing PostgreSQL and Redis behave as one server."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from .support import Display, StatusPage

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
SERVICES = ["ausweis", "meldewesen", "abholung", "beglaubigung"]


def test_a_call_made_through_one_process_reaches_a_display_on_the_other(make_cluster):
    cluster = make_cluster(2)
    a, b = cluster.processes
    display = Display(b.url, cluster.tokens["DISPLAY"])
    try:
        snapshot, _ = display.next("snapshot")
        latencies = []
        for _ in range(20):
            assert cluster.post(a, "/offices/mitte/tickets", "KIOSK", service="meldewesen").status_code == 201
            sent = time.monotonic()
            resp = cluster.post(a, "/offices/mitte/counters/schalter-3/call-next", "CLERK")
            assert resp.status_code == 200, resp.text
            call, arrived = display.next("ticket_called", where=lambda d, code=resp.json()["code"]: d["code"] == code)
            assert call["counter"] == "schalter-3" and call["seq"] > snapshot["seq"]
            latencies.append((arrived - sent) * 1000)
        latencies.sort()
        print(f"\ncall-next sent to A -> ticket_called on a display of B: "
              f"median {statistics.median(latencies):.1f} ms, max {latencies[-1]:.1f} ms")
        assert latencies[-1] < 1000
    finally:
        display.close()


def test_each_process_sends_its_own_clients_their_state_after_a_change_made_on_the_other(make_cluster):
    """The process that commits tells the others which office changed; each builds the snapshots its own clients
    need and sends them to those clients only: a display on B gets each `state` once, a phone on B its ticket's."""
    cluster = make_cluster(2)
    a, b = cluster.processes
    first = cluster.post(a, "/offices/mitte/tickets", "KIOSK", service="meldewesen").json()
    mine = cluster.post(a, "/offices/mitte/tickets", "KIOSK", service="meldewesen").json()
    token = mine["status_url"].rsplit("/", 1)[1]
    display, phone = Display(b.url, cluster.tokens["DISPLAY"]), StatusPage(b.url, token)
    try:
        snapshot, _ = phone.next("snapshot")
        assert snapshot["ticket"]["people_ahead"] == 1
        display.next("snapshot")
        resp = cluster.post(a, "/offices/mitte/counters/schalter-3/call-next", "CLERK")
        assert resp.status_code == 200 and resp.json()["code"] == first["code"], resp.text
        state, _ = phone.next("state", timeout=3)
        assert state["ticket"]["code"] == mine["code"] and state["ticket"]["people_ahead"] == 0
        display_state, _ = display.next("state", timeout=3)
        assert display_state["calls"][0]["code"] == first["code"]
        time.sleep(1.0)  # several STATE_DELAYs: a second copy (from A through Redis) would have come by now
        assert [e for e, data, _ in display.drain() if e == "state" and data["seq"] == display_state["seq"]] == []
    finally:
        display.close()
        phone.close()


def test_concurrent_call_next_over_both_processes_hands_out_no_ticket_twice(make_cluster):
    cluster = make_cluster(2)
    a, b = cluster.processes
    counters = [f"cluster-{i:02d}" for i in range(12)]
    for slug in counters:
        resp = cluster.post(a, "/offices/mitte/counters", "ADMIN", name=slug, slug=slug, services=SERVICES)
        assert resp.status_code == 201, resp.text
    with ThreadPoolExecutor(8) as pool:
        issued = list(pool.map(lambda i: cluster.post((a, b)[i % 2], "/offices/mitte/tickets", "KIOSK",
                                                      service=SERVICES[i % 4]), range(240)))
    assert all(r.status_code == 201 for r in issued)
    issued_ids = {r.json()["id"] for r in issued}

    def drain(i: int) -> list[tuple[int, int]]:
        process, path, got = (a, b)[i % 2], f"/offices/mitte/counters/{counters[i]}/call-next", []
        while (resp := cluster.post(process, path, "CLERK")).status_code == 200:
            got.append((resp.json()["id"], i % 2))
        assert resp.status_code == 204, resp.text
        return got

    with ThreadPoolExecutor(len(counters)) as pool:
        called = [c for got in pool.map(drain, range(len(counters))) for c in got]
    ids = [ticket for ticket, _ in called]
    assert [t for t, n in Counter(ids).items() if n > 1] == []
    assert set(ids) == issued_ids
    by_process = Counter(process for _, process in called)
    assert min(by_process.values()) > 20, f"both processes must really hand out tickets: {by_process}"
    assert cluster.get(a, "/offices/mitte/queue", "CLERK").json()["waiting"] == []


def test_exactly_one_process_runs_the_background_work(make_cluster):
    cluster = make_cluster(2)
    leaders = [p.health()["process"]["leader"] for p in cluster.processes]
    assert sorted(leaders) == [False, True]
    health = cluster.processes[0].health()
    assert health["status"] == "ok"
    assert health["checks"] == {"database": "ok", "message_queue": "ok", "printers": "ok"}

"""Faults of a two-process cluster: a process killed, Redis restarted, PostgreSQL connections dropped."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from sqlalchemy import create_engine, select, text

from server.db import Database
from server.db.models import Ticket

from .support import Display, FailoverProxy

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


class Load:
    """Kiosks and a clerk working through both processes; a request that fails on one is retried on the other
    with the same request_id, as a kiosk behind nginx would be."""

    def __init__(self, cluster, processes):
        self.cluster, self.processes = cluster, list(processes)
        self.acked: dict[str, dict] = {}  # request_id -> ticket as answered
        self.calls: list[int] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._kiosk, args=(i,)) for i in range(3)]
        self.threads.append(threading.Thread(target=self._clerk))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)

    def _post(self, i: int, path: str, token: str, **body):
        for attempt in range(10):
            process = self.processes[(i + attempt) % len(self.processes)]
            try:
                resp = self.cluster.post(process, path, token, timeout=5, **body)
            except requests.RequestException:
                continue  # that process is gone: try the other one
            if resp.status_code < 500:
                return resp
        raise AssertionError(f"{path} failed on every process")

    def _kiosk(self, k: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            request_id = f"k{k}-{n}"
            resp = self._post(k + n, "/offices/mitte/tickets", "KIOSK", service="ausweis", request_id=request_id)
            # 200: the same request_id again (its first try reached the killed process, the answer did not)
            assert resp.status_code in (200, 201), resp.text
            self.acked[request_id] = resp.json()
            time.sleep(0.02)

    def _clerk(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            resp = self._post(n, "/offices/mitte/counters/schalter-1/call-next", "CLERK")
            if resp.status_code == 200:
                self.calls.append(resp.json()["id"])
            time.sleep(0.05)


def test_kill_9_of_one_process_loses_no_ticket_and_its_displays_resync_on_the_other(make_cluster):
    cluster = make_cluster(2)
    a, b = cluster.processes
    proxy = FailoverProxy([b.port, a.port])  # the displays' sticky backend is b; nginx fails over to a
    displays = [Display(proxy.url, cluster.tokens["DISPLAY"], reconnection=True) for _ in range(4)]
    assert b.health()["process"]["leader"] or a.health()["process"]["leader"]
    try:
        for d in displays:
            d.next("snapshot")
        with Load(cluster, [a, b]) as load:
            time.sleep(2)
            for d in displays:
                d.drain()
            b.kill9()
            killed = time.monotonic()
            resynced = [d.next("snapshot", timeout=5.5)[1] - killed for d in displays]
            time.sleep(0.5)
        print(f"\ndisplays back with a snapshot from the other process after {max(resynced):.2f} s (max of 4)")
        assert max(resynced) < 5.0
        assert a.health()["process"]["leader"] or _became_leader(a)

        # In sync: a call now reaches every display as the delta right after what it knows.
        last_seen = [_last_seq(d) for d in displays]
        assert cluster.post(a, "/offices/mitte/tickets", "KIOSK", service="meldewesen").status_code == 201
        resp = cluster.post(a, "/offices/mitte/counters/schalter-3/call-next", "CLERK")
        assert resp.status_code == 200, resp.text
        for d, seen in zip(displays, last_seen, strict=True):
            seqs = _seqs_until_call(d, resp.json()["code"])
            assert seqs >= set(range(seen + 1, max(seqs) + 1)), f"a gap after seq {seen}: {sorted(seqs)}"
    finally:
        for d in displays:
            d.close()
        proxy.close()

    assert len(load.acked) > 50 and len(load.calls) > 10
    db = Database(cluster.database_url)
    with db.read_session() as s:
        stored = {t.request_id: t for t in s.scalars(select(Ticket).where(Ticket.request_id.is_not(None)))}
    db.dispose()
    for request_id, ticket in load.acked.items():
        assert request_id in stored, f"acknowledged ticket {ticket['code']} is gone"
        assert stored[request_id].id == ticket["id"], "a retry on the other process made a second ticket"
    assert len(load.calls) == len(set(load.calls)), "a ticket was called twice"


def _became_leader(process, within: float = 8.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.health()["process"]["leader"]:
            return True
        time.sleep(0.25)
    return False


def _seqs_until_call(display: Display, code: str, timeout: float = 5.0) -> set[int]:
    """The seqs a display receives up to and including the call of `code`."""
    seqs, deadline = set(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        event, data, _ = display.inbox.get(timeout=max(0.01, deadline - time.monotonic()))
        if isinstance(data, dict) and "seq" in data:
            seqs.add(data["seq"])
        if event == "ticket_called" and data["code"] == code:
            return seqs
    raise AssertionError(f"the call of {code} did not arrive within {timeout} s")


def _last_seq(display: Display) -> int:
    """The highest seq a display has seen (snapshot or delta), after a moment for stragglers."""
    time.sleep(0.5)
    seqs = [data["seq"] for event, data, _ in display.drain() if isinstance(data, dict) and "seq" in data]
    display.last_seq = max([getattr(display, "last_seq", -1), *seqs])
    return display.last_seq


def test_with_redis_away_http_keeps_working_and_events_flow_again_after(make_cluster, private_redis):
    cluster = make_cluster(2, message_queue=private_redis.url)
    a, b = cluster.processes
    on_a, on_b = Display(a.url, cluster.tokens["DISPLAY"]), Display(b.url, cluster.tokens["DISPLAY"])
    try:
        for d in (on_a, on_b):
            d.next("snapshot")
        assert _call(cluster, a, on_b)

        private_redis.stop()
        started = time.monotonic()
        code = _issue_and_call(cluster, a)
        assert time.monotonic() - started < 5, "HTTP must not wait for Redis"
        on_a.next("ticket_called", where=lambda d: d["code"] == code)  # a's own displays still hear a's calls
        health = a.health()
        assert (health["status"], health["checks"]["message_queue"]) == ("degraded", "unavailable")

        private_redis.start()
        deadline, flowing = time.monotonic() + 10, False
        while not flowing and time.monotonic() < deadline:
            flowing = _call(cluster, a, on_b, timeout=1.0)
        back = time.monotonic() - deadline + 10
        print(f"\nevents from a reach b's display again {back:.1f} s after Redis restarted")
        assert flowing, a.log_text() + b.log_text()
        assert a.health()["status"] == "ok"
    finally:
        on_a.close()
        on_b.close()


def _issue_and_call(cluster, process) -> str:
    assert cluster.post(process, "/offices/mitte/tickets", "KIOSK", service="meldewesen").status_code == 201
    resp = cluster.post(process, "/offices/mitte/counters/schalter-3/call-next", "CLERK")
    assert resp.status_code == 200, resp.text
    return resp.json()["code"]


def _call(cluster, process, display: Display, timeout: float = 5.0) -> bool:
    """A call through `process`; whether `display` hears of it within `timeout`."""
    code = _issue_and_call(cluster, process)
    try:
        display.next("ticket_called", timeout=timeout, where=lambda d: d["code"] == code)
        return True
    except AssertionError:
        return False


def test_with_postgresql_gone_requests_fail_cleanly_then_recover_by_themselves(make_cluster):
    cluster = make_cluster(1)
    (server,) = cluster.processes
    name = cluster.database_url.rsplit("/", 1)[1]
    admin = create_engine(cluster.database_url.rsplit("/", 1)[0] + "/test", isolation_level="AUTOCOMMIT")
    assert _became_leader(server)
    try:
        with admin.connect() as conn:  # as a restart would: every connection dropped, no new ones for now
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        for resp in (cluster.post(server, "/offices/mitte/tickets", "KIOSK", service="ausweis"),
                     cluster.get(server, "/offices/mitte/queue", "CLERK")):
            assert resp.status_code == 503, resp.text
            assert resp.json()["error"]["code"] == "database_unavailable"
        health = requests.get(server.url + "/healthz", timeout=5)
        assert (health.status_code, health.json()["status"]) == (503, "down")
        assert _lost_lead(server)

        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        assert cluster.post(server, "/offices/mitte/tickets", "KIOSK", service="ausweis").status_code == 201
        assert requests.get(server.url + "/healthz", timeout=5).json()["status"] == "ok"
        assert _became_leader(server), "the lead is taken again once the database is back"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def _lost_lead(process, within: float = 8.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not process.health()["process"]["leader"]:
            return True
        time.sleep(0.25)
    return False

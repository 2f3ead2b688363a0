"""The measurements against one running server: issue latency at a fixed rate, call-next (paced, then a
drain by every counter at once, with the no-duplicate/no-loss checks), and saturated issue throughput."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from .client import Client
from .cpu import CpuMeter
from .load import Outcome, close_all, closed_loop, connections, open_loop, percentile, run_threads
from .server_proc import Server

OFFICE = "/api/v1/offices/mitte"
DEMO_SERVICES = ["ausweis", "meldewesen", "abholung", "beglaubigung"]
# Services only the bench issues into; a wide number range, because the demo range (1-999 per service and
# day, no number reused while its ticket waits) would run out during a saturation run.
LATENCY_SERVICE = {"name": "Bench Latenz", "slug": "bench-latenz", "prefix": "Y", "range": [1, 99999]}


def throughput_service(index: int, conns: int) -> dict:
    """The service of the index-th throughput level: each level starts with an empty queue of its own."""
    return {"name": f"Bench Durchsatz {conns}", "slug": f"bench-durchsatz-{conns}", "prefix": "X" + chr(65 + index),
            "range": [1, 99999]}


@dataclass
class Measurement:
    """The numbers of one phase (seconds for latencies) and any problems seen."""

    values: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    per_second: list[int] = field(default_factory=list)
    cpu: CpuMeter | None = None


def expect(reply, status: int, what: str) -> dict:
    """The reply's body, or a RuntimeError naming `what` when the status is not `status`."""
    if reply.status != status:
        raise RuntimeError(f"{what}: HTTP {reply.status} {reply.body}")
    return reply.body


def counter_slug(index: int) -> str:
    """The slug of the index-th bench counter."""
    return f"bench-{index + 1:02d}"


def set_up_layout(server: Server, counters: int, levels: list[int]) -> None:
    """Add the bench services (latency, one per throughput level) and `counters` counters serving the demo
    services (in rotating order)."""
    admin = Client(server.host, server.port, server.tokens["admin"])
    try:
        for service in [LATENCY_SERVICE] + [throughput_service(i, c) for i, c in enumerate(levels)]:
            expect(admin.post(f"{OFFICE}/services", service), 201, f"create service {service['slug']}")
        for i in range(counters):
            order = DEMO_SERVICES[i % 4:] + DEMO_SERVICES[:i % 4]
            body = {"name": f"Bench {i + 1}", "slug": counter_slug(i), "services": order}
            expect(admin.post(f"{OFFICE}/counters", body), 201, f"create counter {counter_slug(i)}")
    finally:
        admin.close()


def issuer(services: list[str], run_id: str):
    """A send function that issues a ticket with a unique request_id, rotating over `services`."""
    def send(client: Client, n: int):
        """Issue the n-th ticket."""
        body = {"service": services[n % len(services)], "request_id": f"{run_id}-{n}"}
        return client.post(f"{OFFICE}/tickets", body)
    return send


def _problems(outcome: Outcome, ok: int) -> list[str]:
    """Unexpected statuses and transport errors, summarised."""
    out = [f"{n}x HTTP {s}" for s, n in sorted(outcome.statuses.items()) if s != ok]
    if outcome.errors:
        out.append(f"{len(outcome.errors)} connection errors, e.g. {outcome.errors[0]}")
    return out


def issue_throughput(server: Server, seconds: float, conns: int, warmup: float = 2.0) -> Measurement:
    """Saturate ticket issue with `conns` keep-alive connections; the rate counts after a warm-up."""
    clients = connections(server, server.tokens["kiosk"], conns)
    send = issuer([f"bench-durchsatz-{conns}"], "tp-" + uuid.uuid4().hex[:8])
    try:
        with CpuMeter(server.process.pid, server.backends) as cpu:
            outcome = closed_loop(clients, send, warmup + seconds)
    finally:
        close_all(clients)
    window = outcome.latencies(warmup, warmup + seconds)
    values = {"rate": outcome.rate(warmup, warmup + seconds, 201), "p50": percentile(window, 50),
              "p99": percentile(window, 99), "issued": outcome.statuses[201]}
    return Measurement(values, _problems(outcome, 201), outcome.per_second(warmup + seconds), cpu)


def issue_latency(server: Server, rate: float, seconds: float, conns: int = 16) -> Measurement:
    """Issue at a fixed open-loop rate; latency from each scheduled send time."""
    clients = connections(server, server.tokens["kiosk"], conns)
    send = issuer([LATENCY_SERVICE["slug"]], "lat-" + uuid.uuid4().hex[:8])
    try:
        with CpuMeter(server.process.pid, server.backends) as cpu:
            outcome = open_loop(clients, send, rate, seconds)
    finally:
        close_all(clients)
    values = latency_values(outcome.latencies()) | {"achieved_rate": outcome.statuses[201] / seconds}
    return Measurement(values, _problems(outcome, 201), outcome.per_second(seconds), cpu)


def latency_values(latencies: list[float]) -> dict[str, float]:
    """p50, p99 and max of some latencies (seconds)."""
    return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
            "max": max(latencies, default=float("nan"))}


def pre_issue(server: Server, count: int, conns: int = 16) -> list[int]:
    """Issue `count` tickets spread over the demo services; return their ids."""
    clients = connections(server, server.tokens["kiosk"], conns)
    send, ids, lock = issuer(DEMO_SERVICES, "pre-" + uuid.uuid4().hex[:8]), [], threading.Lock()
    numbers = iter(range(count))

    def worker(index: int) -> None:
        """Issue tickets until `count` have been taken."""
        while True:
            with lock:
                n = next(numbers, None)
            if n is None:
                return
            ids.append(expect(send(clients[index], n), 201, "pre-issue")["id"])

    try:
        run_threads(conns, worker)
    finally:
        close_all(clients)
    return ids


def caller(counters: int, called: list[int]):
    """A send function for call-next at counter n % counters, keeping the ids of the tickets it got."""
    def send(client: Client, n: int):
        """Call next at one counter."""
        reply = client.post(f"{OFFICE}/counters/{counter_slug(n % counters)}/call-next")
        if reply.status == 200:
            called.append(reply.body["id"])
        return reply
    return send


def paced_calls(server: Server, counters: int, rate: float, seconds: float) -> tuple[Measurement, list[int]]:
    """Call-next at a fixed open-loop rate spread over the counters (a busy office, not a stampede)."""
    clients, called = connections(server, server.tokens["clerk"], counters), []
    try:
        with CpuMeter(server.process.pid, server.backends) as cpu:
            outcome = open_loop(clients, caller(counters, called), rate, seconds)
    finally:
        close_all(clients)
    values = latency_values(outcome.latencies()) | {"achieved_rate": len(called) / seconds}
    return Measurement(values, _problems(outcome, 200), outcome.per_second(seconds), cpu), called


def drain(server: Server, counters: int) -> tuple[Outcome, list[int]]:
    """Every counter calls next back-to-back until it gets 204; return the outcome and the tickets called."""
    clients = connections(server, server.tokens["clerk"], counters)
    called: list[int] = []
    outcome, start = Outcome(), time.perf_counter()

    def worker(index: int) -> None:
        """Call next at this worker's counter until nothing waits."""
        path = f"{OFFICE}/counters/{counter_slug(index)}/call-next"
        while len(outcome.errors) < 100:
            try:
                reply = clients[index].post(path)
            except OSError as exc:
                outcome.errors.append(f"{counter_slug(index)}: {exc!r}")
                continue
            outcome.add(time.perf_counter() - start, reply.seconds, reply.status)
            if reply.status == 204:
                return
            if reply.status == 200:
                called.append(reply.body["id"])
            else:
                outcome.errors.append(f"HTTP {reply.status} {reply.body}")

    try:
        run_threads(counters, worker)
    finally:
        close_all(clients)
    return outcome, called


def check_queue(server: Server) -> tuple[int, set[int]]:
    """From the server's own view: tickets of the demo services still waiting, and the ids called to bench
    counters."""
    admin = Client(server.host, server.port, server.tokens["admin"], timeout=300)
    try:
        queue = expect(admin.get(f"{OFFICE}/queue"), 200, "GET queue")
    finally:
        admin.close()
    waiting = sum(1 for t in queue["waiting"] if t["service"] in DEMO_SERVICES)
    called = {t["id"] for t in queue["called"] if (t["counter"] or "").startswith("bench-")}
    return waiting, called


def call_next(server: Server, counters: int, tickets: int, rate: float, seconds: float
              ) -> tuple[Measurement, Measurement]:
    """Pre-issue tickets; call some at a fixed rate, then drain the rest with every counter at once; check that
    no ticket went out twice or got lost. Returns (paced, drain) measurements; the checks are in the drain's."""
    issued = pre_issue(server, tickets)
    paced, paced_ids = paced_calls(server, counters, rate, seconds)
    start = time.perf_counter()
    with CpuMeter(server.process.pid, server.backends) as cpu:
        outcome, drained_ids = drain(server, counters)
    elapsed = time.perf_counter() - start
    flat = paced_ids + drained_ids
    waiting, server_called = check_queue(server)
    values = latency_values([lat for _, lat, status in outcome.records if status == 200]) | {
        "duplicates": len(flat) - len(set(flat)), "lost": len(set(issued) - set(flat)),
        "unknown": len(set(flat) - set(issued)), "waiting_after": waiting,
        "server_mismatch": len(server_called ^ set(flat)), "calls_per_s": len(drained_ids) / elapsed,
        "issued": len(issued), "paced": len(paced_ids), "drained": len(drained_ids)}
    problems = [f"{n}x HTTP {s}" for s, n in sorted(outcome.statuses.items()) if s not in (200, 204)]
    return paced, Measurement(values, problems + outcome.errors[:3], cpu=cpu)

"""Load generation: closed-loop (saturating) and open-loop (fixed-rate) drivers, and percentiles.

Each worker thread owns one keep-alive connection. The drivers run in the bench process, which is separate from
the server process; on a 2-core machine the two compete for the cores, so every phase also reports the CPU each
side used (bench/cpu.py).
"""

from __future__ import annotations

import itertools
import math
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .client import Client, Reply

Send = Callable[[Client, int], Reply]


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank q-th percentile (0 < q <= 100) of `values`; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Outcome:
    """What a driver saw: per request its completion time (s from start), latency (s) and HTTP status."""

    records: list[tuple[float, float, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, done_at: float, latency: float, status: int) -> None:
        """Record one finished request (list.append is atomic under the GIL)."""
        self.records.append((done_at, latency, status))

    @property
    def statuses(self) -> Counter:
        """How many answers had each HTTP status."""
        return Counter(status for _, _, status in self.records)

    def latencies(self, first: float = 0.0, last: float = math.inf) -> list[float]:
        """Latencies (s) of the requests that completed in [first, last)."""
        return [lat for t, lat, _ in self.records if first <= t < last]

    def rate(self, first: float, last: float, status: int) -> float:
        """Answers per second with `status` that completed in [first, last)."""
        return sum(1 for t, _, s in self.records if first <= t < last and s == status) / (last - first)

    def per_second(self, seconds: float) -> list[int]:
        """Completions in each whole second of the first `seconds` since the start."""
        buckets = Counter(int(t) for t, _, _ in self.records)
        return [buckets.get(s, 0) for s in range(int(seconds))]


def run_threads(count: int, target: Callable[[int], None]) -> None:
    """Run target(0..count-1) in threads started together; re-raise the first failure after all end."""
    failures: list[BaseException] = []
    gate = threading.Barrier(count)

    def body(index: int) -> None:
        """Wait for all threads, then run the target, keeping any failure."""
        try:
            gate.wait()
            target(index)
        except BaseException as exc:  # noqa: BLE001 -- handed to the caller below
            failures.append(exc)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]


def closed_loop(clients: list[Client], send: Send, seconds: float) -> Outcome:
    """Every client sends back-to-back for `seconds`: the server's saturated throughput."""
    outcome, numbers = Outcome(), itertools.count()
    start = time.perf_counter()
    deadline = start + seconds

    def worker(index: int) -> None:
        """Send back-to-back on one connection until the deadline."""
        client = clients[index]
        while time.perf_counter() < deadline:
            try:
                reply = send(client, next(numbers))
            except OSError as exc:
                outcome.errors.append(repr(exc))
                continue
            outcome.add(time.perf_counter() - start, reply.seconds, reply.status)

    run_threads(len(clients), worker)
    return outcome


def open_loop(clients: list[Client], send: Send, rate: float, seconds: float) -> Outcome:
    """Send at fixed times (rate per second) from a pool of connections; latency counts from the scheduled
    send time, so a stalled server shows up in the numbers (no coordinated omission)."""
    outcome, numbers, slots = Outcome(), itertools.count(), queue.SimpleQueue()
    start = time.perf_counter() + 0.2
    for i in range(int(rate * seconds)):
        slots.put(start + i / rate)

    def worker(index: int) -> None:
        """Take the next send time, sleep until it, send; stop when no slots are left."""
        client = clients[index]
        while True:
            try:
                due = slots.get_nowait()
            except queue.Empty:
                return
            time.sleep(max(0.0, due - time.perf_counter()))
            try:
                reply = send(client, next(numbers))
            except OSError as exc:
                outcome.errors.append(repr(exc))
                continue
            now = time.perf_counter()
            outcome.add(now - start, now - due, reply.status)

    run_threads(len(clients), worker)
    return outcome


def connections(server, token: str, count: int) -> list[Client]:
    """`count` keep-alive clients of `server` with `token`."""
    return [Client(server.host, server.port, token) for _ in range(count)]


def close_all(clients: list[Client]) -> None:
    """Close every client's connection."""
    for c in clients:
        c.close()

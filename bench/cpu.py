"""Who used the machine's CPU during a phase: the server, its PostgreSQL backends, the load generator, the rest.

The machine is small and shared; a phase where "other" is high was disturbed by something else.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import create_engine, text

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (from /proc); 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    """User + system CPU seconds of this (client) process, all threads."""
    t = os.times()
    return t.user + t.system


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def busy_cores(seconds: float = 1.0) -> float:
    """How many cores the whole machine keeps busy over the next `seconds`."""
    start = machine_busy_seconds()
    time.sleep(seconds)
    return (machine_busy_seconds() - start) / seconds


def wait_quiet(timeout: float, threshold: float = 0.2, quiet_for: float = 6.0) -> float:
    """Wait (up to `timeout` seconds) until fewer than `threshold` cores have been busy for `quiet_for` seconds
    in a row; return the busy level of the last two seconds."""
    deadline, quiet_since = time.monotonic() + timeout, time.monotonic()
    while True:
        busy = busy_cores(2.0)
        now = time.monotonic()
        if busy >= threshold:
            quiet_since = now
        if now - quiet_since >= quiet_for or now >= deadline:
            return busy


def postgres_backends(admin_url: str, database: str) -> Callable[[], list[int]]:
    """A function listing the PIDs of the PostgreSQL backends connected to `database` (same host only)."""
    engine = create_engine(admin_url, pool_size=1)

    def pids() -> list[int]:
        """The backend PIDs right now."""
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database})
            return [r.pid for r in rows]
    return pids


def no_backends() -> list[int]:
    """SQLite runs inside the server process: no separate database processes."""
    return []


class BackendTracker:
    """CPU seconds of database backends, polled in a thread: the pool opens and closes backends during a phase,
    and a backend that exits before the end would otherwise go uncounted."""

    def __init__(self, backends: Callable[[], list[int]], interval: float = 0.25):
        """Track the backends `backends()` lists, polling every `interval` seconds once started."""
        self.backends, self.interval = backends, interval
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _sample(self, baseline: bool) -> None:
        """Read every backend's CPU; a backend first seen at the baseline starts from its current value."""
        for pid in self.backends():
            used = process_cpu_seconds(pid)
            if pid not in self.first:
                self.first[pid] = used if baseline else 0.0  # a backend born during the phase counts whole
            self.last[pid] = max(used, self.last.get(pid, 0.0))

    def _poll(self) -> None:
        """The polling thread."""
        while not self._stop.wait(self.interval):
            self._sample(baseline=False)

    def start(self) -> None:
        """Take the baseline and start polling."""
        self._sample(baseline=True)
        self._thread.start()

    def stop(self) -> float:
        """Stop polling; return the CPU seconds the backends used since start."""
        self._stop.set()
        self._thread.join()
        self._sample(baseline=False)
        return sum(self.last[pid] - self.first[pid] for pid in self.first)


@dataclass
class CpuMeter:
    """CPU used over a `with` block, in cores (1.0 = one core busy all the time): by the server process, by its
    database backends, by this load-generating process, and by everything else on the machine."""

    server_pid: int
    backends: Callable[[], list[int]] = no_backends
    server: float = 0.0
    database: float = 0.0
    client: float = 0.0
    other: float = 0.0

    def _sample(self) -> dict[str, float]:
        """Wall clock and CPU counters now."""
        return {"wall": time.perf_counter(), "server": process_cpu_seconds(self.server_pid),
                "client": own_cpu_seconds(), "machine": machine_busy_seconds()}

    def __enter__(self) -> CpuMeter:
        """Start measuring."""
        self._tracker = BackendTracker(self.backends)
        self._tracker.start()
        self._start = self._sample()
        return self

    def __exit__(self, *exc) -> None:
        """Stop measuring and turn the counters into cores."""
        end, start = self._sample(), self._start
        wall = end["wall"] - start["wall"]
        self.database = self._tracker.stop() / wall
        self.server = (end["server"] - start["server"]) / wall
        self.client = (end["client"] - start["client"]) / wall
        machine = (end["machine"] - start["machine"]) / wall
        self.other = max(0.0, machine - self.server - self.client - self.database)

    def summary(self) -> str:
        """'server 0.98, db 0.40, client 0.05, other 0.02' (cores)."""
        return (f"server {self.server:.2f}, db {self.database:.2f}, client {self.client:.2f}, "
                f"other {self.other:.2f}")

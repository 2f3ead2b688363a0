"""Who used the machine's CPU during a phase: the server, its PostgreSQL backends, the load generator, the rest.

The machine is small and shared; a phase where "other" is high was disturbed by something else.
"""

from __future__ import annotations

import os
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


def wait_quiet(timeout: float, threshold: float = 0.3) -> float:
    """Wait (up to `timeout` seconds) until less than `threshold` cores are busy; return the last busy level."""
    deadline = time.monotonic() + timeout
    busy = busy_cores()
    while busy >= threshold and time.monotonic() < deadline:
        busy = busy_cores(2.0)
    return busy


def postgres_backends(admin_url: str, database: str) -> Callable[[], list[int]]:
    """A function listing the PIDs of the PostgreSQL backends connected to `database` (same host only)."""
    def pids() -> list[int]:
        engine = create_engine(admin_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database})
                return [r.pid for r in rows]
        finally:
            engine.dispose()
    return pids


def no_backends() -> list[int]:
    """SQLite runs inside the server process: no separate database processes."""
    return []


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

    def _sample(self, pids: list[int]) -> dict[str, float]:
        return {"wall": time.perf_counter(), "server": process_cpu_seconds(self.server_pid),
                "client": own_cpu_seconds(), "machine": machine_busy_seconds(),
                **{f"pid{p}": process_cpu_seconds(p) for p in pids}}

    def __enter__(self) -> CpuMeter:
        self._start = self._sample(self.backends())
        return self

    def __exit__(self, *exc) -> None:
        pids = self.backends()
        end, start = self._sample(pids), self._start
        wall = end["wall"] - start["wall"]
        self.server = (end["server"] - start["server"]) / wall
        self.client = (end["client"] - start["client"]) / wall
        self.database = sum(end[f"pid{p}"] - start.get(f"pid{p}", 0.0) for p in pids) / wall
        machine = (end["machine"] - start["machine"]) / wall
        self.other = max(0.0, machine - self.server - self.client - self.database)

    def summary(self) -> str:
        """'server 0.98, db 0.40, client 0.05, other 0.02' (cores)."""
        return (f"server {self.server:.2f}, db {self.database:.2f}, client {self.client:.2f}, "
                f"other {self.other:.2f}")

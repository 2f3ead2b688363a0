"""What bench/results.md was measured on: CPU, memory, OS, Python, SQLite, PostgreSQL and Redis versions, the
commit, and how busy the machine was before the run."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess

from sqlalchemy import create_engine, text

from .cpu import busy_cores
from .report import machine
from .server_proc import PG_ADMIN_URL, server_venv


def _first(path: str, key: str) -> str:
    """The value of the first 'key: value' (or 'key=value') line of a file, or '?'."""
    try:
        with open(path) as fh:
            for line in fh:
                name, sep, value = line.partition(":" if ":" in line else "=")
                if sep and name.strip() == key:
                    return value.strip().strip('"')
    except OSError:
        pass
    return "?"


def postgres_version() -> str:
    """The PostgreSQL server's version, or why it is unknown."""
    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SHOW server_version")).scalar_one()
    except Exception as exc:  # any failure: say so in the report instead of failing the run
        return f"not reachable ({type(exc).__name__})"
    finally:
        engine.dispose()


def redis_version() -> str:
    """redis-server's version (the day benchmark starts its own), or 'not installed'."""
    try:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return "not installed"
    return next((w.split("=", 1)[1] for w in out.split() if w.startswith("v=")), out.strip() or "?")


def details() -> dict[str, str]:
    """Everything about the machine and the software, and the load before the run."""
    mem_kib = int(_first("/proc/meminfo", "MemTotal").split()[0] or 0)
    load = os.getloadavg()
    info = machine()
    return {
        "CPU": _first("/proc/cpuinfo", "model name"), "cores": info.pop("cores"),
        "RAM": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "OS": f"{_first('/etc/os-release', 'PRETTY_NAME')}, Linux {platform.release()}",
        "Python": info.pop("python"), "SQLite": sqlite3.sqlite_version, "PostgreSQL": postgres_version(),
        "Redis": redis_version(), "commit": info.pop("server revision"), "server venv": server_venv(),
        "load average before (1/5/15 min)": " / ".join(f"{v:.2f}" for v in load),
        "cores busy before (2 s sample)": f"{busy_cores(2.0):.2f}",
    } | info

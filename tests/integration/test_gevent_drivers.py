"""The server runs on gevent: the PostgreSQL driver must yield while it waits, or one slow query stalls all."""

import subprocess
import sys

import pytest

from server.config import ROOT
from tests.support import databases

PROBE = """
from gevent import monkey; monkey.patch_all()
import sys, time, gevent
from server.db import Database
db = Database(sys.argv[1])
def slow():
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SELECT pg_sleep(0.5)")
started = time.monotonic()
gevent.joinall([gevent.spawn(slow) for _ in range(6)])
print(round(time.monotonic() - started, 2))
"""


@pytest.mark.postgres
def test_six_slow_queries_overlap_under_gevent():
    databases.require_postgres()
    done = subprocess.run([sys.executable, "-c", PROBE, databases.PG_ADMIN_URL], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    elapsed = float(done.stdout.strip())
    assert elapsed < 1.5, f"6 x 0.5 s took {elapsed} s: the driver blocks the gevent loop"

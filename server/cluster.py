"""Work that runs once per cluster, not once per process: printer checks and recovery of orphaned print jobs.

On PostgreSQL the process that holds a session-level advisory lock is the leader. It holds the lock on a
connection of its own, so the lock goes when the process dies (the database sees the socket close) or when
that connection breaks; the other processes try to take it every few seconds. On SQLite there is only one
process, so it always leads.

Between a leader's connection breaking and the leader noticing it (up to one check interval), two processes may
both act; the work given to the leader must therefore be harmless when done twice (it is: status probes, and
failing jobs that are already stale).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from server.db import Database

log = logging.getLogger(__name__)
LOCK_KEY = 0x4351_0001  # "CQ", 1: arbitrary but fixed; advisory locks are scoped to the database
CHECK_SECONDS = 3.0  # how often a follower tries to lead, and the leader checks its lock connection


class Leadership:
    """Whether this process leads the cluster; `on_lead` callbacks run each time it becomes the leader."""

    def __init__(self, db: Database, *, check_seconds: float = CHECK_SECONDS):
        self.db = db
        self.check_seconds = check_seconds
        self.clustered = db.dialect == "postgresql"
        self._leader = not self.clustered
        self._engine = None
        self._conn = None
        self._callbacks: list[Callable[[], None]] = []
        self._started = False
        self._lock = threading.Lock()

    @property
    def is_leader(self) -> bool:
        return self._leader

    def on_lead(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def start(self) -> None:
        """Begin leading (SQLite) or competing for the lock (PostgreSQL) in the background."""
        from server.realtime import socketio

        with self._lock:
            if self._started:
                return
            self._started = True
        if not self.clustered:
            self._became_leader()
            return
        socketio.start_background_task(self._run)

    def _run(self) -> None:
        from server.realtime import socketio

        while True:
            self.step()
            socketio.sleep(self.check_seconds)

    def step(self) -> bool:
        """One round: take the lock if free, or check that the connection holding it is alive."""
        try:
            if self._leader:
                self._conn.execute(text("SELECT 1"))
            elif self._connection().execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar():
                self._became_leader()
        except Exception as exc:  # the database went away: whatever we held is gone with the connection
            if self._leader:
                log.warning("lost the cluster lock (pid %s): %s", os.getpid(), exc)
            else:
                log.debug("cannot compete for the cluster lock: %s", exc)
            self._leader = False
            self._close()
        return self._leader

    def _connection(self):
        if self._conn is None:
            if self._engine is None:
                self._engine = create_engine(self.db.engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
            self._conn = self._engine.connect()
        return self._conn

    def _became_leader(self) -> None:
        self._leader = True
        log.info("this process (pid %s) now runs the cluster's background work", os.getpid())
        for callback in self._callbacks:
            try:
                callback()
            except Exception:  # one failing start-up task must not keep the others from running
                log.exception("background start-up task %s failed", getattr(callback, "__name__", callback))

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # closing a broken connection may fail too; it is gone either way
                log.debug("closing the lock connection failed", exc_info=True)

    def stop(self) -> None:
        """Give up the lead (tests): closing the connection releases the lock."""
        if self.clustered:
            self._leader = False
        self._close()
        if self._engine is not None:
            self._engine.dispose()

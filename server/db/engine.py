"""Engines and sessions. SQLite: WAL, and write transactions take the lock up front."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """An engine for `url`, tuned for its database. Requests beyond the pool wait up to 30 s."""
    parsed = make_url(url)
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": 30}
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, echo, pool)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, echo=echo, pool_pre_ping=True, **pool)


def _sqlite_engine(url, echo: bool, pool: dict) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take transaction control from the driver, so BEGIN is ours to emit.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A write transaction takes the database lock at BEGIN: no two writers ever read the same
        # queue state (DESIGN rule 1); reads use a deferred BEGIN and run beside writers under WAL.
        mode = "IMMEDIATE" if conn.get_execution_options().get("qms_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


WRITE_CONCURRENCY = 8


class _CommitOnClose(Session):
    """A read-only transaction that ends with COMMIT, not ROLLBACK (the same for a transaction that wrote
    nothing): psycopg drops every prepared statement of the connection on a ROLLBACK. The transaction is READ
    ONLY, so the commit can never write."""

    def close(self) -> None:
        if self.in_transaction():
            with contextlib.suppress(Exception):  # an aborted transaction: close() below rolls it back as usual
                self.commit()
        super().close()


class Database:
    """The engine plus a session factory for reads and one for writes."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 20):
        self.url = url
        self.engine = make_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow)
        self.dialect = self.engine.dialect.name
        # PostgreSQL: write transactions of one process queue here rather than on row locks inside the
        # database, where a waiting holder (a busy process) would keep the office's lock longer.
        self.write_gate = threading.BoundedSemaphore(WRITE_CONCURRENCY) if self.dialect == "postgresql" else None
        # Office ids by slug, filled as offices are looked up: a slug never changes and an office is never deleted.
        self.office_ids: dict[str, int] = {}
        # Bearer tokens' actors, read within the last seconds (server.auth.tokens.actor_of).
        self.token_actors: dict = {}
        # PostgreSQL reads run in autocommit: for SELECTs that is what READ COMMITTED gives (a fresh snapshot per
        # statement), without BEGIN and ROLLBACK. The ROLLBACK mattered most: psycopg forgets its prepared
        # statements on every one, so no query was ever prepared and PostgreSQL parsed and planned each again
        # (call-next's queue heads: ~3 ms of planning per call under load). Several statements that must agree
        # use snapshot_session().
        reads = self.engine.execution_options(isolation_level="AUTOCOMMIT") if self.dialect == "postgresql" else (
            self.engine)
        self._read = sessionmaker(reads, expire_on_commit=False)
        self._write = sessionmaker(self.engine.execution_options(qms_write=True), expire_on_commit=False)
        self._snapshot = sessionmaker(
            self.engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True),
            class_=_CommitOnClose, expire_on_commit=False)

    def read_session(self) -> Session:
        return self._read()

    def write_session(self) -> Session:
        return self._write()

    def snapshot_session(self) -> Session:
        """A read session that sees one consistent state across statements (seq and data agree).

        SQLite's read transaction is a snapshot already; PostgreSQL needs REPEATABLE READ for it.
        """
        if self.dialect == "postgresql":
            return self._snapshot()
        return self._read()

    def dispose(self) -> None:
        self.engine.dispose()

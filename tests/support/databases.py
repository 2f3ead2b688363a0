"""Test databases: a fresh SQLite file, or a fresh PostgreSQL database cloned from a migrated template."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from server.db import Database
from server.db.migrate import upgrade

PG_ADMIN_URL = os.environ.get("QMS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
_template: str | None = None


def _admin_engine():
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def require_postgres() -> None:
    """Skip (or, under CI, fail) when the PostgreSQL test server cannot be reached."""
    try:
        with _admin_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__}); start it or set QMS_TEST_PG_URL"
        if IN_CI:
            pytest.fail(message + " -- CI=true, so this is an error, not a skip")
        pytest.skip(message)


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _ensure_template() -> str:
    global _template
    if _template is None:
        name = f"cq_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with _admin_engine().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = Database(_pg_url(name)).engine
        upgrade(engine)
        engine.dispose()
        _template = name
    return _template


def new_postgres_url() -> str:
    require_postgres()
    name = f"cq_test_{uuid.uuid4().hex[:12]}"
    with _admin_engine().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_ensure_template()}"'))
    return _pg_url(name)


def drop_postgres(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with _admin_engine().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def drop_template() -> None:
    if _template:
        drop_postgres(_pg_url(_template))


def new_sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'civicqueue.db'}"


def migrated(url: str) -> Database:
    db = Database(url)
    if db.dialect == "sqlite":
        upgrade(db.engine)
    return db

"""Is the database at the schema this code needs? Answered without importing Alembic.

A serving process only needs to compare two revision ids, and Alembic (with Mako, and Pygments where it is
installed) costs 6-11 MiB in every process for the rest of its life. So the newest migration's id is written
down here, and `tests/integration/test_migrations.py` fails the moment a new migration lands without it.
Creating and upgrading the schema (`python -m server init`) still goes through Alembic (server.db.migrate).
"""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

SCHEMA_HEAD = "0009"  # the `revision` of the newest file in server/db/migrations/versions/
VERSION_TABLE = "alembic_version"  # where Alembic records the revision a database is at


def stored_revision(engine: Engine) -> str | None:
    """The revision the database is at: None for an empty database (never migrated), several ids joined by
    commas if someone branched the migrations (which never equals SCHEMA_HEAD, so it is refused too)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        revisions = sorted(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
    return ",".join(revisions) or None


def schema_problem(engine: Engine) -> str | None:
    """What is wrong with the database's schema for this code, in words, or None when it is current."""
    current = stored_revision(engine)
    if current == SCHEMA_HEAD:
        return None
    if current is None:
        return "the database has no schema"
    return f"the database is at revision {current}, the code needs {SCHEMA_HEAD}"

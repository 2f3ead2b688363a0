"""The migrations build exactly the schema the models describe, and init can run again."""

import os
import subprocess
import sys

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, update

from server.db import Database
from server.db.migrate import alembic_config, current_revision, head_revision, upgrade
from server.db.models import Base, Counter
from server.db.schema_version import SCHEMA_HEAD, schema_problem, stored_revision
from server.services.calling import set_counter_state
from server.services.uow import SYSTEM
from tests.support import databases

# Alembic cannot compare expression indexes (a DESC column) on every database; checked by name instead.
EXPRESSION_INDEXES = {"ix_tickets_fifo"}


def _comparable(obj, name, type_, reflected, compare_to):
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def test_migrated_schema_matches_the_models(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _comparable})
        diff = compare_metadata(context, Base.metadata)
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("tickets")}
    assert diff == []
    assert indexes >= EXPRESSION_INDEXES


def test_upgrade_is_idempotent(db):
    assert current_revision(db.engine) == head_revision()
    assert upgrade(db.engine) == (head_revision(), head_revision())


def test_schema_head_names_the_newest_migration():
    assert head_revision() == SCHEMA_HEAD, (
        f"a migration was added: set SCHEMA_HEAD in server/db/schema_version.py to {head_revision()!r}")


def test_schema_check_agrees_with_alembic(db):
    assert stored_revision(db.engine) == current_revision(db.engine) == SCHEMA_HEAD
    assert schema_problem(db.engine) is None
    command.downgrade(alembic_config(db.engine), "0006")
    assert stored_revision(db.engine) == current_revision(db.engine) == "0006"
    assert schema_problem(db.engine) == f"the database is at revision 0006, the code needs {SCHEMA_HEAD}"
    upgrade(db.engine)
    assert schema_problem(db.engine) is None


def test_schema_check_on_an_empty_database(tmp_path):
    empty = Database(databases.new_sqlite_url(tmp_path))
    try:
        assert stored_revision(empty.engine) is None
        assert schema_problem(empty.engine) == "the database has no schema"
    finally:
        empty.dispose()


def test_serving_process_does_not_load_alembic(sqlite_db, tmp_path):
    """Alembic, Mako (and Pygments, where installed) would stay in every serving process's memory."""
    probe = ("import sys; from server.cli import _require_schema; from server.app import create_app; "
             "from server.config import load_settings; from server.db import Database; "
             "from server.serve import prepare; "
             "db = Database(sys.argv[1]); _require_schema(db); prepare(create_app(load_settings(), db=db)); "
             "print(sorted(m for m in ('alembic', 'mako', 'pygments') if m in sys.modules))")
    env = {**os.environ, "QMS_SECRET_KEY": "test-secret", "QMS_INSTANCE": str(tmp_path)}
    env.pop("QMS_MESSAGE_QUEUE", None)
    done = subprocess.run([sys.executable, "-c", probe, str(sqlite_db.engine.url)], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_upgrade_to_0009_fills_each_counters_state_since_from_its_latest_state_event(ctx, clock):
    set_counter_state(ctx, SYSTEM, "mitte", "schalter-1", "open")
    opened = clock()
    clock.advance(minutes=90)
    set_counter_state(ctx, SYSTEM, "mitte", "schalter-2", "open")
    clock.advance(minutes=20)
    set_counter_state(ctx, SYSTEM, "mitte", "schalter-2", "paused")
    paused = clock()
    engine = ctx.db.engine
    command.downgrade(alembic_config(engine), "0008")
    upgrade(engine)
    with ctx.db.read_session() as session:
        since = dict(session.execute(select(Counter.slug, Counter.state_since).join(Counter.office)
                                     .where(Counter.office.has(slug="mitte"))).all())
    assert since["schalter-1"] == opened
    assert since["schalter-2"] == paused
    assert since["schalter-3"] is None  # never opened: no event to take it from
    with ctx.db.write_session() as session:  # and the column is written with each change from now on
        session.execute(update(Counter).values(state_since=None))
    clock.advance(minutes=5)
    set_counter_state(ctx, SYSTEM, "mitte", "schalter-2", "closed")
    with ctx.db.read_session() as session:
        assert session.scalar(select(Counter.state_since).where(Counter.slug == "schalter-2",
                                                                Counter.office.has(slug="mitte"))) == clock()

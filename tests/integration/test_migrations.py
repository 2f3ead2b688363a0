"""The migrations build exactly the schema the models describe, and init can run again."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from server.db.migrate import current_revision, head_revision, upgrade
from server.db.models import Base

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

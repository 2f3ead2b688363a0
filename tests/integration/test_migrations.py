"""The migrations build exactly the schema the models describe, and init can run again."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from server.db.migrate import current_revision, head_revision, upgrade
from server.db.models import Base


def test_migrated_schema_matches_the_models(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(db):
    assert current_revision(db.engine) == head_revision()
    assert upgrade(db.engine) == (head_revision(), head_revision())

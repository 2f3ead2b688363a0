"""PostgreSQL: queries run often are prepared once per connection and stay prepared.

psycopg prepares a query after its 5th run on a connection, and forgets every prepared statement on a ROLLBACK.
Read sessions therefore run in autocommit and snapshot sessions end with COMMIT (server/db/engine.py): with a
ROLLBACK after each read, nothing was ever prepared and PostgreSQL parsed and planned every query again.
"""

import pytest
from sqlalchemy import select, text

from server.db import Database
from server.db.models import Office
from tests.support import databases

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg():
    databases.require_postgres()
    url = databases.new_postgres_url()
    db = databases.migrated(url)
    # One pooled connection, so every session below runs on the same one.
    single = Database(url, pool_size=1, max_overflow=0)
    yield single
    single.dispose()
    db.dispose()
    databases.drop_postgres(url)


def prepared(db: Database) -> set[str]:
    with db.read_session() as session:
        return set(session.scalars(text("SELECT statement FROM pg_prepared_statements")))


@pytest.mark.parametrize("kind", ["read", "snapshot"])
def test_sessions_keep_their_prepared_statements(pg, kind):
    query = select(Office.id).where(Office.slug == "nowhere")
    for _ in range(8):
        with getattr(pg, f"{kind}_session")() as session:
            assert session.scalars(query).all() == []
    statements = prepared(pg)
    assert any("FROM offices" in s and "offices.slug" in s for s in statements), statements


def test_snapshot_sessions_are_read_only(pg):
    with pg.snapshot_session() as session, pytest.raises(Exception, match="read-only transaction"):
        session.execute(text("UPDATE offices SET name = name"))

"""API tests only: the `sqlite_db` of tests/conftest.py, copied from a database made once per session.

Migrating and importing the layout is most of a test's setup, and the API tests build several hundred fresh
databases, so they copy a file that is already migrated and holds the layout. The shared `sqlite_ctx` fixture
still imports the layout on top (it finds everything there and keeps it); tokens and app are made as usual.
"""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import text

from server.config import DEMO_CONFIG, load_settings
from server.db import Database
from server.services.context import Context
from server.services.layout import import_layout
from tests.conftest import TEST_LAYOUT
from tests.support import databases
from tests.support.fakes import FakeClock


@pytest.fixture(scope="session")
def _template_sqlite_file(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sqlite-template")
    db = databases.migrated(databases.new_sqlite_url(directory))
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("QMS_CONFIG", raising=False)
        import_layout(Context(db=db, clock=FakeClock()), load_settings(extra_files=[DEMO_CONFIG, TEST_LAYOUT]))
    with db.engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    db.dispose()
    return directory / "civicqueue.db"


@pytest.fixture
def sqlite_db(_template_sqlite_file, tmp_path):
    shutil.copyfile(_template_sqlite_file, tmp_path / "civicqueue.db")
    database = Database(databases.new_sqlite_url(tmp_path))
    yield database
    database.dispose()

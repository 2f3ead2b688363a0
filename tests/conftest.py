"""Shared fixtures: databases on SQLite and PostgreSQL, the demo layout, tokens, app and client."""

from __future__ import annotations

import contextlib

import pytest

from server.config import DEMO_CONFIG, ROOT, load_settings
from server.services.context import Context
from server.services.layout import import_layout
from tests.support import databases
from tests.support.fakes import FakeClock, RecordingPublisher

TEST_LAYOUT = ROOT / "tests" / "support" / "second_office.toml"


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_template():
    yield
    with contextlib.suppress(Exception):  # the server may be gone already; nothing to clean then
        databases.drop_template()


@pytest.fixture
def settings(monkeypatch, tmp_path):
    for var in ("QMS_DATABASE_URL", "QMS_MESSAGE_QUEUE", "QMS_CONFIG", "QMS_PUBLIC_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("QMS_SECRET_KEY", "test-secret")
    return load_settings(extra_files=[DEMO_CONFIG, TEST_LAYOUT])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        database = databases.migrated(databases.new_sqlite_url(tmp_path))
        yield database
        database.dispose()
    else:
        url = databases.new_postgres_url()
        database = databases.migrated(url)
        yield database
        database.dispose()
        databases.drop_postgres(url)


@pytest.fixture
def sqlite_db(tmp_path):
    database = databases.migrated(databases.new_sqlite_url(tmp_path))
    yield database
    database.dispose()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def published():
    return RecordingPublisher()


def _context(db, settings, clock, published) -> Context:
    ctx = Context(db=db, publish=published, clock=clock, base_url="http://testserver")
    import_layout(ctx, settings)
    published.events.clear()
    return ctx


@pytest.fixture
def ctx(db, settings, clock, published) -> Context:
    """Use-case context on each database, with the demo office and office 'nord' imported."""
    return _context(db, settings, clock, published)


@pytest.fixture
def sqlite_ctx(sqlite_db, settings, clock, published) -> Context:
    return _context(sqlite_db, settings, clock, published)


ROLE_TOKENS = {
    # name: (token name, role or device kind, office, is_device)
    "admin": ("t-admin", "admin", None, False),
    "admin_mitte": ("t-admin-mitte", "admin", "mitte", False),
    "supervisor": ("t-supervisor", "supervisor", "mitte", False),
    "clerk": ("t-clerk", "clerk", "mitte", False),
    "agent": ("t-agent", "agent", None, False),
    "kiosk": ("t-kiosk", "kiosk", "mitte", True),
    "display": ("t-display", "display", "mitte", True),
    "clerk_nord": ("t-clerk-nord", "clerk", "nord", False),
    "supervisor_nord": ("t-supervisor-nord", "supervisor", "nord", False),
    "kiosk_nord": ("t-kiosk-nord", "kiosk", "nord", True),
}


def make_tokens(ctx: Context) -> dict[str, str]:
    from server.auth.tokens import create_token

    out = {}
    for key, (name, role, office, device) in ROLE_TOKENS.items():
        out[key] = create_token(ctx, name, role=None if device else role, device=role if device else None,
                                office_slug=office)
    return out


@pytest.fixture
def app(sqlite_ctx, settings, clock):
    """The Flask app on SQLite with the demo layout; its use cases see the fake clock."""
    from server.app import create_app

    application = create_app(settings, db=sqlite_ctx.db, clock=clock)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def tokens(sqlite_ctx) -> dict[str, str]:
    return make_tokens(sqlite_ctx)


class ApiClient:
    """The Flask test client with a role's bearer token: api.post(path, role="clerk", json={...})."""

    def __init__(self, client, tokens):
        self.client, self.tokens = client, tokens

    def request(self, method: str, path: str, role: str | None = None, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if role:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    def get(self, path, role=None, **kw):
        return self.request("GET", path, role, **kw)

    def post(self, path, role=None, **kw):
        return self.request("POST", path, role, **kw)


@pytest.fixture
def api(app, tokens) -> ApiClient:
    return ApiClient(app.test_client(), tokens)

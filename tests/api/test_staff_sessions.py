"""Staff sessions: server-side, so signing out ends them; failed sign-ins are rate-limited; passwords change."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from server.auth.users import add_user
from server.db.models import AuditEntry

PASSWORD = "a-long-secret-1"
QUEUE = "/api/v1/offices/mitte/queue"


@pytest.fixture
def erika(sqlite_ctx):
    add_user(sqlite_ctx, "erika", "clerk", PASSWORD, ["mitte"])
    return "erika"


def english(app):
    """A test client whose browser prefers English (the texts asserted below are the English ones)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def csrf_token(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def sign_in(client, name: str = "erika", password: str = PASSWORD):
    return client.post("/login", data={"name": name, "password": password, "csrf_token": csrf_token(client)})


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def audit_actions(ctx) -> list[tuple[str, str]]:
    with ctx.db.read_session() as session:
        return [(e.action, e.actor) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_a_session_cookie_no_longer_works_after_sign_out(app, erika):
    client = app.test_client()
    assert sign_in(client).status_code == 302
    assert client.get(QUEUE).status_code == 200
    copied = session_cookie(client)

    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/password")})
    assert client.get(QUEUE).status_code == 401

    thief = app.test_client()
    thief.set_cookie("session", copied)  # the cookie as it was before signing out
    assert thief.get(QUEUE).status_code == 401


def test_sign_in_and_out_are_in_the_audit_log_with_failures(app, sqlite_ctx, erika):
    client = app.test_client()
    assert sign_in(client, password="wrong-password").status_code == 401
    sign_in(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/password")})
    assert audit_actions(sqlite_ctx) == [("login_failed", "erika"), ("login", "erika"), ("logout", "erika")]
    with sqlite_ctx.db.read_session() as session:
        assert {e.ip for e in session.scalars(select(AuditEntry))} == {"127.0.0.1"}


def test_failed_sign_ins_are_limited_per_address_and_successful_ones_are_not(app, erika):
    client = english(app)
    for _ in range(12):  # more than the limit of failed attempts: correct sign-ins never count
        assert sign_in(client).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/account/password")})
    for _ in range(5):
        assert sign_in(client, password="guess-guess").status_code == 401
    blocked = sign_in(client)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)
    other = app.test_client()
    assert other.post("/login", data={"name": "erika", "password": PASSWORD, "csrf_token": csrf_token(other)},
                      environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 302  # another address is free


def test_a_sign_in_without_the_csrf_token_is_refused(app, erika):
    client = app.test_client()
    resp = client.post("/login", data={"name": "erika", "password": PASSWORD})
    assert resp.status_code == 401 and client.get(QUEUE).status_code == 401


def test_changing_the_password_ends_every_other_session(app, sqlite_ctx, erika):
    desk, phone = english(app), app.test_client()
    sign_in(desk), sign_in(phone)
    new = "another-long-secret"

    def change(current, password, repeat):
        return desk.post("/account/password", data={"current": current, "new": password, "repeat": repeat,
                                                    "csrf_token": csrf_token(desk, "/account/password")})

    assert change("wrong-one-here", new, new).status_code == 401
    assert change(PASSWORD, new, new + "x").status_code == 422
    assert change(PASSWORD, "short", "short").status_code == 422
    done = change(PASSWORD, new, new)
    assert done.status_code == 200 and "Your password is changed" in done.get_data(as_text=True)

    assert desk.get(QUEUE).status_code == 200  # this session goes on
    assert phone.get(QUEUE).status_code == 401  # every other one ended
    assert sign_in(app.test_client()).status_code == 401  # the old password is gone
    assert sign_in(app.test_client(), password=new).status_code == 302
    assert ("password_changed", "erika") in audit_actions(sqlite_ctx)


def test_the_password_page_needs_a_signed_in_user(app):
    resp = app.test_client().get("/account/password")
    assert resp.status_code == 302 and "/login" in resp.location


def test_page_sessions_need_the_csrf_header_for_every_api_write(app, sqlite_ctx, erika):
    client = app.test_client()
    sign_in(client)
    path = "/api/v1/offices/mitte/counters/schalter-1/open"
    refused = client.post(path)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"
    assert client.post(path, headers={"X-CSRFToken": "forged"}).status_code == 403
    counters = {c["slug"]: c["state"] for c in client.get("/api/v1/offices/mitte/counters").get_json()}
    assert counters["schalter-1"] == "closed"  # nothing changed
    token = csrf_token(client, "/account/password")
    assert client.post(path, headers={"X-CSRFToken": token}).status_code == 200


def test_a_device_cookie_needs_the_csrf_header_too(app, tokens):
    client = app.test_client()
    client.get(f"/kiosk/mitte?token={tokens['kiosk']}")  # pairs: the token moves into the device cookie
    refused = client.post("/api/v1/offices/mitte/tickets", json={"service": "ausweis"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"


@pytest.mark.parametrize("path", ["/login", "/api/v1/offices", "/healthz", "/kiosk/mitte", "/t/nope"])
def test_security_headers_on_every_response(app, path):
    resp = app.test_client().get(path)
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_the_session_cookie_is_httponly_samesite_and_secure_behind_tls(settings, sqlite_ctx, clock):
    from server.app import create_app

    add_user(sqlite_ctx, "max", "clerk", PASSWORD, ["mitte"])
    settings.server.public_url = "https://queue.example.org"
    app = create_app(settings, db=sqlite_ctx.db, clock=clock)
    client = app.test_client()
    resp = sign_in(client, "max")
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_the_limiter_skips_the_api_routes_that_declare_no_limit(app):
    from flask import request
    from flask_limiter.util import get_qualified_name

    from server.web.staff import LIMITED_API_ENDPOINTS, _has_no_limits, limiter

    # The filter exempts every API route but those listed: a limit on any other one would be switched off.
    # (Flask-Limiter keeps its decorated routes in `_marked_for_limiting` and its hints per endpoint.)
    api = {endpoint: view for endpoint, view in app.view_functions.items() if endpoint.startswith("api.")}
    limited = {endpoint for endpoint, view in api.items()
               if get_qualified_name(view) in limiter._marked_for_limiting or limiter.limit_manager.has_hints(endpoint)}
    assert len(api) > 20 and limited == LIMITED_API_ENDPOINTS
    with app.test_request_context("/api/v1/offices/mitte/tickets", method="POST"):
        assert _has_no_limits()
    with app.test_request_context("/api/v1/pair", method="POST"):
        assert request.endpoint == "api.redeem_pairing_code" and not _has_no_limits()
    with app.test_request_context("/login", method="POST"):
        assert not _has_no_limits()

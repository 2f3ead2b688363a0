"""Staff users managed by admins over the API: who sees whom, every validation and scope rule, no self-lockout,
sessions ended on deactivation and password reset, and a refused request changes nothing."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.auth import sessions
from server.auth.users import add_user
from server.db.models import AuditEntry, User

from .helpers import assert_error, body_text

PASSWORD = "a-long-secret-1"
NEW_PASSWORD = "another-secret-2"
QUEUE = "/api/v1/offices/mitte/queue"
FIELDS = {"id", "name", "role", "offices", "active", "created_at", "last_login", "editable"}


@pytest.fixture
def staff(sqlite_ctx) -> dict[str, int]:
    """Users of every kind: office-bound, in two offices, scoped and city-wide admins, a city-wide agent."""
    made = {
        "erika": ("clerk", ["mitte"]),
        "nora": ("supervisor", ["nord"]),
        "mia": ("clerk", ["mitte", "nord"]),
        "ada": ("admin", []),
        "mats": ("admin", ["mitte"]),
        "anton": ("agent", []),
    }
    return {name: add_user(sqlite_ctx, name, role, PASSWORD, offices) for name, (role, offices) in made.items()}


def users(api, role: str = "admin") -> dict[str, dict]:
    resp = api.get("/users", role)
    assert resp.status_code == 200, body_text(resp)
    return {u["name"]: u for u in resp.get_json()}


def patch(api, user_id: int, caller: str = "admin", **body):
    return api.request("PATCH", f"/users/{user_id}", caller, json=body)


# --- signing in through the pages ----------------------------------------------------------------------------
def csrf_token(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def signed_in(app, name: str, password: str = PASSWORD):
    """A browser session of this user, with the CSRF header its pages send on API writes."""
    client = app.test_client()
    resp = client.post("/login", data={"name": name, "password": password, "csrf_token": csrf_token(client)})
    assert resp.status_code == 302, body_text(resp)
    client.csrf = csrf_token(client, "/account/password")
    return client


def can_sign_in(app, name: str, password: str) -> bool:
    client = app.test_client()
    return client.post("/login", data={"name": name, "password": password,
                                       "csrf_token": csrf_token(client)}).status_code == 302


def own(client, method: str, path: str, **body):
    return client.open(f"/api/v1{path}", method=method, json=body, headers={"X-CSRFToken": client.csrf})


# --- listing -------------------------------------------------------------------------------------------------
def test_a_city_wide_admin_lists_every_user_and_never_a_password_hash(api, staff):
    resp = api.get("/users", "admin")
    assert resp.status_code == 200
    listed = {u["name"]: u for u in resp.get_json()}
    assert set(listed) == set(staff)
    assert all(set(u) == FIELDS for u in listed.values())
    assert listed["mia"] | {"created_at": None} == {
        "id": staff["mia"], "name": "mia", "role": "clerk", "offices": ["mitte", "nord"], "active": True,
        "created_at": None, "last_login": None, "editable": True}
    assert listed["ada"]["offices"] == [] and listed["anton"]["offices"] == []
    assert "argon2" not in resp.get_data(as_text=True) and "password" not in resp.get_data(as_text=True)


def test_users_are_listed_by_name_whatever_the_case(api, sqlite_ctx, staff):
    add_user(sqlite_ctx, "Bert", "clerk", PASSWORD, ["mitte"])
    assert list(users(api)) == ["ada", "anton", "Bert", "erika", "mats", "mia", "nora"]


def test_a_scoped_admin_sees_only_users_who_share_one_of_its_offices(api, staff):
    listed = users(api, "admin_mitte")
    assert set(listed) == {"erika", "mia", "mats"}  # not nord's supervisor, nor the city-wide admin and agent
    assert listed["erika"]["editable"] and listed["mats"]["editable"]
    assert not listed["mia"]["editable"]  # she also works for nord


def test_last_login_is_the_start_of_the_latest_session(api, app, sqlite_ctx, clock, staff):
    sessions.start(sqlite_ctx, staff["erika"], timedelta(hours=8), None)
    later = clock.advance(hours=3)
    sessions.start(sqlite_ctx, staff["erika"], timedelta(hours=8), None)
    listed = users(api)
    assert listed["erika"]["last_login"] == later.isoformat().replace("+00:00", "Z")
    assert listed["nora"]["last_login"] is None


def test_only_admins_list_users(api, staff):
    assert_error(api.get("/users", "supervisor"), 403, "wrong_role")
    assert_error(api.get("/users"), 401, "unauthorized")


# --- creating ------------------------------------------------------------------------------------------------
def test_an_admin_adds_a_user_who_can_then_sign_in(api, app, clock):
    resp = api.post("/users", "admin", json={"name": "Karl Berg", "role": "supervisor", "offices": ["nord", "mitte",
                                                                                                    "nord"],
                                              "password": PASSWORD})
    assert resp.status_code == 201, body_text(resp)
    user = resp.get_json()
    assert user | {"id": 0} == {"id": 0, "name": "Karl Berg", "role": "supervisor", "offices": ["mitte", "nord"],
                                "active": True, "created_at": clock().isoformat().replace("+00:00", "Z"),
                                "last_login": None, "editable": True}
    assert users(api)["Karl Berg"]["id"] == user["id"]
    assert can_sign_in(app, "Karl Berg", PASSWORD)


def test_a_city_wide_admin_may_add_city_wide_admins_and_agents(api):
    for name, role in (("ida", "admin"), ("paul", "agent")):
        resp = api.post("/users", "admin", json={"name": name, "role": role, "password": PASSWORD})
        assert resp.status_code == 201 and resp.get_json()["offices"] == [], body_text(resp)


GOOD = {"name": "neu", "role": "clerk", "offices": ["mitte"], "password": PASSWORD}


@pytest.mark.parametrize(("change", "status", "code", "words"), [
    ({"name": "erika"}, 409, "already_exists", "name: a user 'erika' already exists"),
    ({"role": "boss"}, 422, "invalid_role", "role: unknown role 'boss'"),
    ({"role": "kiosk"}, 422, "invalid_role", "one of: clerk, supervisor, admin, agent"),
    ({"offices": []}, 422, "office_required", "offices: a clerk needs at least one office"),
    ({"role": "supervisor", "offices": []}, 422, "office_required", "a supervisor needs at least one office"),
    ({"offices": ["mitte", "sued"]}, 404, "office_not_found", "no office 'sued'"),
    ({"password": "kurz"}, 422, "weak_password", "at least 10 characters"),
    ({"password": ""}, 422, "weak_password", "at least 10 characters"),
    ({"password": "x" * 201}, 422, "invalid_field", "password:"),
    ({"name": ""}, 422, "invalid_field", "name:"),
    ({"name": " erika"}, 422, "invalid_field", "name: no spaces at the start or the end"),
    ({"name": "a\tb"}, 422, "invalid_field", "name: the name must not contain control characters"),
    ({"name": "n" * 101}, 422, "invalid_field", "name:"),
    ({"offices": "mitte"}, 422, "invalid_field", "offices:"),
    ({"active": False}, 422, "invalid_field", "active: Extra inputs"),
    ({"role": None}, 422, "invalid_field", "role:"),
])
def test_a_bad_new_user_gets_a_clear_error_and_nothing_is_created(api, staff, change, status, code, words):
    before = users(api)
    error = assert_error(api.post("/users", "admin", json=GOOD | change), status, code)
    assert words in error["message"], error
    assert users(api) == before


def test_a_missing_or_broken_body_is_refused(api, staff):
    before = users(api)
    assert_error(api.post("/users", "admin", json={k: v for k, v in GOOD.items() if k != "password"}), 422,
                 "invalid_field")
    assert_error(api.post("/users", "admin", data="{", content_type="application/json"), 400, "malformed_json")
    assert_error(api.post("/users", "admin"), 400, "malformed_json")
    assert users(api) == before


def test_a_scoped_admin_adds_users_only_to_its_own_offices_and_never_city_wide(api, staff):
    before = users(api)
    for body, words in (({"offices": ["nord"]}, "office 'nord'"),
                        ({"offices": ["mitte", "nord"]}, "office 'nord'"),
                        ({"role": "admin", "offices": []}, "would be city-wide"),
                        ({"role": "agent", "offices": []}, "would be city-wide")):
        error = assert_error(api.post("/users", "admin_mitte", json=GOOD | body), 403, "wrong_office")
        assert words in error["message"]
    assert users(api) == before
    made = api.post("/users", "admin_mitte", json=GOOD | {"role": "admin"})
    assert made.status_code == 201 and made.get_json()["offices"] == ["mitte"], body_text(made)


# --- changing ------------------------------------------------------------------------------------------------
def test_an_admin_changes_role_offices_and_active(api, staff):
    resp = patch(api, staff["erika"], role="supervisor", offices=["nord", "mitte"])
    assert resp.status_code == 200, body_text(resp)
    assert (resp.get_json()["role"], resp.get_json()["offices"]) == ("supervisor", ["mitte", "nord"])
    resp = patch(api, staff["erika"], active=False)
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    assert users(api)["erika"] | {"last_login": None} == resp.get_json()
    assert patch(api, staff["anton"], offices=["nord"]).get_json()["offices"] == ["nord"]  # agent no longer city-wide


def test_a_role_change_applies_to_the_open_session_at_once(api, app, staff):
    client = signed_in(app, "erika")
    assert client.get("/api/v1/offices/mitte/stats").status_code == 403
    assert patch(api, staff["erika"], role="supervisor").status_code == 200
    assert client.get("/api/v1/offices/mitte/stats").status_code == 200


def test_deactivating_a_user_ends_their_sessions_and_sign_ins(api, app, staff):
    client = signed_in(app, "erika")
    assert client.get(QUEUE).status_code == 200
    assert patch(api, staff["erika"], active=False).status_code == 200
    assert client.get(QUEUE).status_code == 401
    assert not can_sign_in(app, "erika", PASSWORD)
    assert patch(api, staff["erika"], active=True).status_code == 200
    assert can_sign_in(app, "erika", PASSWORD)
    assert client.get(QUEUE).status_code == 401  # the old session stays ended


@pytest.mark.parametrize(("body", "status", "code", "words"), [
    ({"role": "boss"}, 422, "invalid_role", "role: unknown role 'boss'"),
    ({"offices": []}, 422, "office_required", "a clerk needs at least one office"),
    ({"offices": ["sued"]}, 404, "office_not_found", "no office 'sued'"),
    ({}, 422, "invalid_field", "give at least one of role, offices or active"),
    ({"active": "no"}, 422, "invalid_field", "active:"),
    ({"active": 0}, 422, "invalid_field", "active:"),
    ({"name": "erika2"}, 422, "invalid_field", "name: Extra inputs"),
    ({"password": NEW_PASSWORD}, 422, "invalid_field", "password: Extra inputs"),
])
def test_a_bad_change_gets_a_clear_error_and_changes_nothing(api, app, staff, body, status, code, words):
    client = signed_in(app, "erika")
    before = users(api)
    error = assert_error(patch(api, staff["erika"], **body), status, code)
    assert words in error["message"], error
    assert users(api) == before
    assert client.get(QUEUE).status_code == 200


def test_changing_an_unknown_user_is_404(api, staff):
    assert_error(patch(api, 4711, active=False), 404, "user_not_found")
    assert_error(patch(api, 2**40, active=False), 404, "user_not_found")
    assert_error(api.post("/users/4711/password", "admin", json={"password": NEW_PASSWORD}), 404, "user_not_found")
    assert_error(api.request("PATCH", "/users/abc", "admin", json={"active": False}), 404, "not_found")


@pytest.mark.parametrize(("target", "body", "words"), [
    ("nora", {"active": False}, "'nora' also works for office 'nord'"),
    ("mia", {"role": "supervisor"}, "'mia' also works for office 'nord'"),
    ("ada", {"active": False}, "'ada' is city-wide"),
    ("anton", {"offices": ["mitte"]}, "'anton' is city-wide"),
    ("erika", {"offices": ["mitte", "nord"]}, "office 'nord'"),
    ("mats", {"offices": []}, "would be city-wide"),
])
def test_a_scoped_admin_changes_only_users_of_its_own_offices(api, staff, target, body, words):
    before = users(api)
    error = assert_error(patch(api, staff[target], "admin_mitte", **body), 403, "wrong_office")
    assert words in error["message"], error
    assert users(api) == before


def test_a_scoped_admin_may_make_a_clerk_of_its_office_an_admin_of_it(api, staff):
    resp = patch(api, staff["erika"], "admin_mitte", role="admin")
    assert resp.status_code == 200 and resp.get_json()["offices"] == ["mitte"], body_text(resp)


@pytest.mark.parametrize(("who", "body", "code", "words"), [
    ("ada", {"active": False}, "own_active", "cannot deactivate your own account"),
    ("mats", {"active": False}, "own_active", "cannot deactivate your own account"),
    ("ada", {"role": "supervisor", "offices": ["mitte"]}, "own_role", "cannot take the admin role"),
    ("mats", {"role": "clerk"}, "own_role", "cannot take the admin role"),
    ("mats", {"offices": []}, "own_offices", "cannot remove your own last office"),
    ("ada", {"offices": ["mitte"]}, "own_offices", "only another city-wide admin"),
])
def test_an_admin_cannot_lock_themselves_out(api, app, staff, who, body, code, words):
    client = signed_in(app, who)
    before = users(api)
    error = assert_error(own(client, "PATCH", f"/users/{staff[who]}", **body), 409, code)
    assert words in error["message"], error
    assert users(api) == before
    assert client.get(QUEUE).status_code == 200


def test_an_admin_may_resend_their_own_unchanged_settings(api, app, staff):
    client = signed_in(app, "mats")
    resp = own(client, "PATCH", f"/users/{staff['mats']}", role="admin", offices=["mitte"], active=True)
    assert resp.status_code == 200, body_text(resp)
    assert resp.get_json()["last_login"] is not None  # this very session


# --- passwords -----------------------------------------------------------------------------------------------
def test_an_admin_sets_a_new_password_and_the_users_sessions_end(api, app, staff):
    desk, phone = signed_in(app, "erika"), signed_in(app, "erika")
    resp = api.post(f"/users/{staff['erika']}/password", "admin", json={"password": NEW_PASSWORD})
    assert resp.status_code == 200 and resp.get_json()["name"] == "erika", body_text(resp)
    assert desk.get(QUEUE).status_code == 401 and phone.get(QUEUE).status_code == 401
    assert not can_sign_in(app, "erika", PASSWORD)
    assert can_sign_in(app, "erika", NEW_PASSWORD)


def test_a_refused_password_changes_nothing(api, app, staff):
    client = signed_in(app, "erika")
    error = assert_error(api.post(f"/users/{staff['erika']}/password", "admin", json={"password": "zu-kurz"}),
                         422, "weak_password")
    assert "at least 10 characters" in error["message"]
    assert_error(api.post(f"/users/{staff['erika']}/password", "admin", json={}), 422, "invalid_field")
    assert_error(api.post(f"/users/{staff['mia']}/password", "admin_mitte", json={"password": NEW_PASSWORD}),
                 403, "wrong_office")
    assert_error(api.post(f"/users/{staff['erika']}/password", "supervisor", json={"password": NEW_PASSWORD}),
                 403, "wrong_role")
    assert client.get(QUEUE).status_code == 200
    assert can_sign_in(app, "erika", PASSWORD)


def test_ones_own_password_is_changed_on_the_account_page_not_here(app, staff):
    client = signed_in(app, "ada")
    error = assert_error(own(client, "POST", f"/users/{staff['ada']}/password", password=NEW_PASSWORD), 409,
                         "own_password")
    assert "/account/password" in error["message"]
    assert can_sign_in(app, "ada", PASSWORD)


def test_a_scoped_admin_resets_passwords_of_its_office_only(api, app, staff):
    assert api.post(f"/users/{staff['erika']}/password", "admin_mitte",
                    json={"password": NEW_PASSWORD}).status_code == 200
    assert_error(api.post(f"/users/{staff['nora']}/password", "admin_mitte", json={"password": NEW_PASSWORD}),
                 403, "wrong_office")
    assert can_sign_in(app, "nora", PASSWORD)


# --- the audit log -------------------------------------------------------------------------------------------
def test_user_writes_are_audited_without_any_password(api, sqlite_ctx, staff):
    secret, weak = "geheim-und-lang-9", "kurz-7"
    api.post("/users", "admin", json=GOOD | {"name": "olga", "password": secret})
    patch(api, staff["erika"], role="supervisor", active=False)
    api.post(f"/users/{staff['nora']}/password", "admin", json={"password": secret + "x"})
    api.post(f"/users/{staff['nora']}/password", "admin", json={"password": weak})
    api.post("/users", "admin", json=GOOD | {"name": "olaf", "password": weak})
    with sqlite_ctx.db.read_session() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        stored = json.dumps([[e.target, e.details] for e in entries])
        hashes = [u.password_hash for u in session.scalars(select(User))]
    assert [(e.action, e.details["status"]) for e in entries] == [
        ("user.create", 201), ("user.update", 200), ("user.password", 200), ("user.password", 422),
        ("user.create", 422)]
    assert entries[0].details == {"status": 201, "name": "olga", "role": "clerk", "offices": ["mitte"]}
    assert entries[1].target == f"user {staff['erika']}"
    assert entries[1].details == {"status": 200, "role": "supervisor", "active": False}
    assert not any("password" in e.details for e in entries)
    for text in (secret, weak, *hashes):
        assert text not in stored

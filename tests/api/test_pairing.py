"""Device pairing: an admin adds a device and gets a one-time code; the code works once, expires, is stored only
hashed; revoking the device ends its token; bad input changes nothing; failed codes are rate-limited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.db.models import ApiToken, AuditEntry, Device, PairingCode
from server.services.pairing import ALPHABET

from .helpers import assert_error, body_text, office_seqs


def add_device(api, name: str = "Eingang 2", kind: str = "kiosk", office: str = "mitte") -> dict:
    resp = api.post(f"/offices/{office}/devices", "admin", json={"name": name, "kind": kind})
    assert resp.status_code == 201, body_text(resp)
    return resp.get_json()


def redeem(api, code: str):
    return api.post("/pair", json={"code": code})


def rows(sqlite_ctx, model) -> list:
    with sqlite_ctx.db.read_session() as session:
        return list(session.scalars(select(model)))


def test_a_new_device_comes_with_a_readable_one_time_code(api):
    device = add_device(api)
    assert (device["name"], device["kind"], device["office"], device["paired"]) == ("Eingang 2", "kiosk", "mitte",
                                                                                   False)
    code = device["pairing"]
    raw = code["code"].replace("-", "")
    assert len(code["code"]) == 9 and code["code"][4] == "-" and len(raw) == 8
    assert set(raw) <= set(ALPHABET) and not set(raw) & set("0O1IL")
    assert code["url"] == f"http://localhost/pair/{code['code']}"
    assert code["expires_at"] == "2026-11-26T09:15:00Z"  # the fake clock, plus 15 minutes
    assert (code["device"], code["kind"]) == ("Eingang 2", "kiosk")


def test_a_code_works_once_and_its_token_issues_tickets_as_that_kiosk(api):
    code = add_device(api)["pairing"]["code"]
    resp = redeem(api, code.lower().replace("-", ""))  # case and dash do not matter
    assert resp.status_code == 200, body_text(resp)
    paired = resp.get_json()
    assert (paired["device"], paired["kind"], paired["office"]) == ("Eingang 2", "kiosk", "mitte")

    assert_error(redeem(api, code), 404, "pairing_code_not_found")
    ticket = api.post("/offices/mitte/tickets", json={"service": "ausweis"},
                      headers={"Authorization": f"Bearer {paired['token']}"})
    assert ticket.status_code == 201, body_text(ticket)
    devices = {d["name"]: d for d in api.get("/offices/mitte/devices", "admin").get_json()}
    assert devices["Eingang 2"]["kind"] == "kiosk"


def test_an_expired_code_is_refused_and_makes_no_token(api, clock, sqlite_ctx):
    code = add_device(api)["pairing"]["code"]
    tokens_before = len(rows(sqlite_ctx, ApiToken))
    clock.advance(minutes=16)
    assert_error(redeem(api, code), 410, "pairing_code_expired")
    assert len(rows(sqlite_ctx, ApiToken)) == tokens_before


def test_a_new_code_invalidates_the_old_one(api):
    old = add_device(api, "Anzeige Flur", "display")["pairing"]["code"]
    resp = api.post("/offices/mitte/devices/Anzeige Flur/pairing", "admin")
    assert resp.status_code == 201, body_text(resp)
    new = resp.get_json()["code"]
    assert new != old
    assert_error(redeem(api, old), 410, "pairing_code_expired")
    assert redeem(api, new).get_json()["kind"] == "display"


def test_codes_and_tokens_are_stored_only_as_hashes(api, sqlite_ctx):
    code = add_device(api)["pairing"]["code"]
    token = redeem(api, code).get_json()["token"]
    [stored] = rows(sqlite_ctx, PairingCode)
    assert len(stored.code_hash) == 64 and code.replace("-", "") not in stored.code_hash
    assert stored.used_at is not None
    with sqlite_ctx.db.engine.connect() as conn:
        dump = "\n".join(conn.connection.dbapi_connection.iterdump())
    assert code not in dump and code.replace("-", "") not in dump and token not in dump


def test_pairing_is_audited_with_the_device_and_address(api, sqlite_ctx):
    code = add_device(api)["pairing"]["code"]
    redeem(api, code)
    actions = [(e.action, e.target, e.ip) for e in rows(sqlite_ctx, AuditEntry)]
    assert ("device.create", "mitte", "127.0.0.1") in actions
    assert ("device.paired", "mitte/Eingang 2", "127.0.0.1") in actions


def test_a_revoked_device_is_refused_on_its_next_call(api):
    code = add_device(api)["pairing"]["code"]
    token = redeem(api, code).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    issued = api.post("/offices/mitte/tickets", json={"service": "ausweis"}, headers=bearer)
    assert issued.status_code == 201, body_text(issued)  # its actor is now cached: the revocation must forget it
    resp = api.post("/offices/mitte/devices/Eingang 2/revoke", "admin")
    assert resp.status_code == 200, body_text(resp)
    assert resp.get_json()["paired"] is False
    refused = api.post("/offices/mitte/tickets", json={"service": "ausweis"},
                       headers={"Authorization": f"Bearer {token}"})
    assert_error(refused, 401, "invalid_token")


def test_revoking_also_ends_an_unused_code(api):
    code = add_device(api)["pairing"]["code"]
    assert api.post("/offices/mitte/devices/Eingang 2/revoke", "admin").status_code == 200
    assert_error(redeem(api, code), 410, "pairing_code_expired")


@pytest.mark.parametrize(("method_path", "body", "status", "code"), [
    ("devices", {"name": "X", "kind": "printer"}, 422, "invalid_field"),
    ("devices", {"name": "", "kind": "kiosk"}, 422, "invalid_field"),
    ("devices", {"name": "   ", "kind": "kiosk"}, 422, "invalid_name"),
    ("devices", {"name": "a/b", "kind": "kiosk"}, 422, "invalid_name"),
    ("devices", {"name": "t-kiosk", "kind": "kiosk"}, 409, "device_exists"),
    ("devices", {"name": "X"}, 422, "invalid_field"),
    ("devices", "not json", 400, "malformed_json"),
    ("devices/nobody/pairing", None, 404, "device_not_found"),
    ("devices/nobody/revoke", None, 404, "device_not_found"),
])
def test_bad_admin_input_is_a_json_4xx_and_changes_nothing(api, sqlite_ctx, method_path, body, status, code):
    before = (office_seqs(api), len(rows(sqlite_ctx, Device)), len(rows(sqlite_ctx, PairingCode)))
    kwargs = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
    assert_error(api.post(f"/offices/mitte/{method_path}", "admin", **kwargs), status, code)
    assert (office_seqs(api), len(rows(sqlite_ctx, Device)), len(rows(sqlite_ctx, PairingCode))) == before


def test_an_unknown_office_is_404(api):
    assert_error(api.post("/offices/nowhere/devices", "admin", json={"name": "X", "kind": "kiosk"}), 404,
                 "office_not_found")


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"code": "ABCD-EFGH"}, 404, "pairing_code_not_found"),
    ({"code": "0000-0000"}, 404, "pairing_code_not_found"),
    ({"code": 12345678}, 422, "invalid_field"),
    ({}, 422, "invalid_field"),
    ({"code": "x" * 100}, 422, "invalid_field"),
])
def test_a_bad_pairing_request_is_a_json_4xx(api, body, status, code):
    assert_error(api.post("/pair", json=body), status, code)


def test_malformed_json_to_pair_is_400(api):
    assert_error(api.post("/pair", data="{", content_type="application/json"), 400, "malformed_json")


def test_failed_codes_are_rate_limited_but_good_ones_are_not(api):
    good = [add_device(api, f"Gerät {i}")["pairing"]["code"] for i in range(12)]
    for code in good:  # successes never count
        assert redeem(api, code).status_code == 200
    for _ in range(10):
        assert_error(redeem(api, "WXYZ-WXYZ"), 404, "pairing_code_not_found")
    assert_error(redeem(api, "WXYZ-WXYZ"), 429, "too_many_requests")
    fresh = add_device(api, "Gerät spät")["pairing"]["code"]
    assert redeem(api, fresh).status_code == 429  # the address is blocked for the rest of the minute


def csrf_of(page: str) -> str:
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def test_the_pairing_link_asks_first_then_sets_the_device_cookie_and_opens_the_device_page(app, api):
    code = add_device(api, "Anzeige Halle", "display")["pairing"]["code"]
    browser = app.test_client()
    assert browser.get(f"/pair/{code}/qr.svg").mimetype == "image/svg+xml"
    for _ in range(3):  # a link preview or prefetch fetching the URL uses nothing up
        resp = browser.get(f"/pair/{code}", headers={"Accept-Language": "en"})
        page = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "qms_device" not in resp.headers.get("Set-Cookie", "")
        assert "the display “Anzeige Halle” of Bürgerbüro Mitte" in page and f'value="{code}"' in page
        assert resp.headers["Cache-Control"] == "no-store"
    resp = browser.post("/pair", data={"code": code, "csrf_token": csrf_of(page)})
    assert resp.status_code == 302 and resp.location == "/display/mitte"
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("qms_device=cq_") and "HttpOnly" in cookie
    assert browser.get("/display/mitte").status_code == 200
    again = browser.get(f"/pair/{code}", headers={"Accept-Language": "en"})
    assert again.status_code == 404 and "used already" in again.get_data(as_text=True)
    assert browser.get(f"/pair/{code}/qr.svg").status_code == 404  # only while the code is valid


def test_an_expired_pairing_link_says_so(app, api, clock):
    code = add_device(api, "Anzeige Flur", "display")["pairing"]["code"]
    clock.advance(minutes=16)
    resp = app.test_client().get(f"/pair/{code}", headers={"Accept-Language": "en"})
    assert resp.status_code == 410 and "expired" in resp.get_data(as_text=True)


def test_the_typed_code_form_needs_its_csrf_token(app, api):
    code = add_device(api)["pairing"]["code"]
    browser = app.test_client()
    assert browser.post("/pair", data={"code": code}).status_code == 400  # no CSRF token: refused
    page = browser.get("/pair").get_data(as_text=True)
    csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    resp = browser.post("/pair", data={"code": code, "csrf_token": csrf})
    assert resp.status_code == 302 and resp.location == "/kiosk/mitte", resp.get_data(as_text=True)[:300]

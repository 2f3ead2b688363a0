"""Admins change offices, services and counters through the API: validated, logged, and refused without a trace."""

from __future__ import annotations

import pytest

from .helpers import assert_error, call_next, issue, snapshot


def patch(api, path, role="admin", **body):
    return api.request("PATCH", path, role, json=body)


def services(api, office="mitte") -> dict[str, dict]:
    return {s["slug"]: s for s in api.get(f"/offices/{office}/services", "admin").get_json()}


# --- offices ----------------------------------------------------------------------------------------------------
def test_an_office_is_read_with_its_languages_and_opening_hours(api):
    office = api.get("/offices/mitte", "clerk").get_json()
    assert (office["slug"], office["timezone"], office["languages"], office["opening_hours"]) == (
        "mitte", "Europe/Berlin", [], {})


def test_an_office_gets_a_new_name_hours_and_languages(api):
    hours = {"mon": [["13:00", "18:00"], ["08:00", "12:00"]], "fri": [["08:00", "12:30"]]}
    resp = patch(api, "/offices/mitte", name="Bürgeramt Mitte (Rathaus)", opening_hours=hours,
                 languages=["de", "en", "tr"])
    assert resp.status_code == 200, resp.get_json()
    office = api.get("/offices/mitte", "admin").get_json()
    assert office["name"] == "Bürgeramt Mitte (Rathaus)"
    assert office["opening_hours"] == {"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "fri": [["08:00", "12:30"]]}
    assert office["languages"] == ["de", "en", "tr"]


def test_sending_nothing_new_records_no_event(api):
    before = snapshot(api)
    resp = patch(api, "/offices/mitte", name=api.get("/offices/mitte", "admin").get_json()["name"])
    assert resp.status_code == 200
    assert snapshot(api) == before


@pytest.mark.parametrize(("body", "code", "words"), [
    ({"timezone": "Mars/Olympus"}, "invalid_timezone", "unknown time zone"),
    ({"timezone": "../../etc/passwd"}, "invalid_timezone", "unknown time zone"),
    ({"language": "xx"}, "invalid_language", "not one of this installation's languages"),
    ({"languages": ["en", "tr"]}, "invalid_language", "default language 'de' must be among them"),
    ({"languages": ["de", "de"]}, "invalid_language", "appears twice"),
    ({"opening_hours": {"mon": [["12:00", "08:00"]]}}, "invalid_hours", "ends before it starts"),
    ({"opening_hours": {"mon": [["08:00", "12:00"], ["11:00", "14:00"]]}}, "invalid_hours", "overlap"),
    ({"opening_hours": {"mon": [["8:00", "12:00"]]}}, "invalid_field", "opening_hours.mon"),
    ({"opening_hours": {"someday": [["08:00", "12:00"]]}}, "invalid_field", "opening_hours"),
    ({"name": ""}, "invalid_field", "name"),
    ({"name": None}, "invalid_field", "must not be null"),
    ({"seq": 5}, "invalid_field", "seq"),
])
def test_a_bad_office_change_says_why_and_changes_nothing(api, body, code, words):
    before = (snapshot(api), api.get("/offices/mitte", "admin").get_json())
    resp = patch(api, "/offices/mitte", **body)
    error = assert_error(resp, 422, code)
    assert words in error["message"]
    assert (snapshot(api), api.get("/offices/mitte", "admin").get_json()) == before


def test_only_a_city_wide_admin_adds_offices(api):
    resp = api.post("/offices", "admin_mitte", json={"name": "Bürgeramt Süd"})
    assert_error(resp, 403, "wrong_office")
    resp = api.post("/offices", "admin", json={"name": "Bürgeramt Süd", "timezone": "Europe/Berlin"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["slug"] == "buergeramt-sued"
    assert "buergeramt-sued" in [o["slug"] for o in api.get("/offices", "admin").get_json()]
    assert_error(api.post("/offices", "admin", json={"name": "Bürgeramt Süd"}), 409, "already_exists")


# --- services ---------------------------------------------------------------------------------------------------
def test_a_service_is_renamed_capped_and_given_a_pictogram(api):
    resp = patch(api, "/offices/mitte/services/ausweis", name={"de": "Ausweise", "en": "ID cards"},
                 daily_cap=50, target_wait=15, pictogram="id-card")
    assert resp.status_code == 200, resp.get_json()
    svc = services(api)["ausweis"]
    assert (svc["names"], svc["daily_cap"], svc["target_wait"], svc["pictogram"]) == (
        {"de": "Ausweise", "en": "ID cards"}, 50, 15, "id-card")
    resp = patch(api, "/offices/mitte/services/ausweis", daily_cap=None, pictogram=None)
    assert (resp.get_json()["daily_cap"], resp.get_json()["pictogram"]) == (None, None)


def test_a_new_prefix_and_range_number_the_next_ticket(api):
    patch(api, "/offices/mitte/services/ausweis", prefix="P", range=[500, 599])
    assert issue(api, "ausweis")["code"] == "P500"


def test_codes_of_two_services_must_not_clash(api):
    other = services(api)["meldewesen"]
    resp = patch(api, "/offices/mitte/services/ausweis", prefix=other["prefix"], range=other["range"])
    assert_error(resp, 409, "code_clash")
    assert services(api)["ausweis"]["prefix"] != other["prefix"]


def test_a_deactivated_service_leaves_the_kiosk_and_refuses_tickets(api):
    resp = patch(api, "/offices/mitte/services/abholung", active=False)
    assert resp.status_code == 200, resp.get_json()
    kiosk_list = api.get("/offices/mitte/services", "kiosk").get_json()
    assert next(s for s in kiosk_list if s["slug"] == "abholung")["active"] is False
    resp = api.post("/offices/mitte/tickets", "kiosk", json={"service": "abholung"})
    assert resp.status_code in (409, 422), resp.get_json()


def test_a_service_with_open_tickets_cannot_be_deactivated(api):
    issue(api, "ausweis")
    before = snapshot(api)
    error = assert_error(patch(api, "/offices/mitte/services/ausweis", active=False), 409, "has_tickets")
    assert "still open" in error["message"]
    assert snapshot(api) == before and services(api)["ausweis"]["active"] is True


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"pictogram": "unicorn"}, 422, "invalid_pictogram"),
    ({"range": [900, 100]}, 422, "invalid_range"),
    ({"prefix": "abc"}, 422, "invalid_field"),
    ({"name": {}}, 422, "invalid_field"),
    ({"name": {"de": ""}}, 422, "invalid_field"),
    ({"name": {"<script>": "x"}}, 422, "invalid_field"),
    ({"daily_cap": 0}, 422, "invalid_field"),
    ({"active": None}, 422, "invalid_field"),
    ({"service_minutes": 10_000}, 422, "invalid_field"),
])
def test_a_bad_service_change_is_refused_and_changes_nothing(api, body, status, code):
    before = (snapshot(api), services(api)["ausweis"])
    assert_error(patch(api, "/offices/mitte/services/ausweis", **body), status, code)
    assert (snapshot(api), services(api)["ausweis"]) == before


def test_changing_an_unknown_service_or_office_is_404(api):
    assert_error(patch(api, "/offices/mitte/services/nope", active=False), 404, "service_not_found")
    assert_error(patch(api, "/offices/nope/services/ausweis", active=False), 404, "office_not_found")


def test_the_kiosk_order_of_services_is_set_in_one_call(api):
    order = list(reversed(list(services(api))))
    resp = api.post("/offices/mitte/service-order", "admin", json={"order": order})
    assert resp.status_code == 200, resp.get_json()
    assert [s["slug"] for s in api.get("/offices/mitte/services", "kiosk").get_json()] == order
    error = assert_error(api.post("/offices/mitte/service-order", "admin", json={"order": order[1:]}),
                         422, "invalid_order")
    assert f"missing: {order[0]}" in error["message"]


def test_a_service_created_with_a_pictogram_has_it(api):
    resp = api.post("/offices/mitte/services", "admin", json={"name": "Kfz", "prefix": "K", "pictogram": "car"})
    assert resp.status_code == 201, resp.get_json()
    assert services(api)["kfz"]["pictogram"] == "car"
    assert_error(api.post("/offices/mitte/services", "admin", json={"name": "Hund", "prefix": "H",
                                                                     "pictogram": "unicorn"}), 422, "invalid_field")


def test_a_pictogram_is_served_as_svg(app):
    client = app.test_client()
    resp = client.get("/vendor/pictograms/car.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml" and b"<svg" in resp.data
    assert client.get("/vendor/pictograms/unicorn.svg").status_code == 404


# --- counters ---------------------------------------------------------------------------------------------------
def test_a_counter_gets_new_services_in_priority_order_and_calls_by_them(api):
    resp = patch(api, "/offices/mitte/counters/schalter-1", name="Schalter 1 (Kfz)",
                 services=["abholung", "ausweis"])
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["services"] == ["abholung", "ausweis"]
    issue(api, "ausweis")
    c = issue(api, "abholung")
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    assert call_next(api, "schalter-1")["id"] == c["id"]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"services": ["ausweis", "ausweis"]}, 422, "invalid_services"),
    ({"services": ["nope"]}, 404, "service_not_found"),
    ({"services": []}, 422, "invalid_field"),
    ({"name": None}, 422, "invalid_field"),
])
def test_a_bad_counter_change_is_refused_and_changes_nothing(api, body, status, code):
    before = snapshot(api)
    assert_error(patch(api, "/offices/mitte/counters/schalter-1", **body), status, code)
    assert snapshot(api) == before

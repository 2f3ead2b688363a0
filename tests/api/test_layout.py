"""Admins add services and counters through the API; they work at once."""

from __future__ import annotations

import pytest

from .helpers import assert_error, call_next, issue, snapshot


def services(api, office="mitte", lang=None) -> dict[str, dict]:
    query = f"?lang={lang}" if lang else ""
    return {s["slug"]: s for s in api.get(f"/offices/{office}/services{query}", "admin").get_json()}


def counters(api, office="mitte") -> dict[str, dict]:
    return {c["slug"]: c for c in api.get(f"/offices/{office}/counters", "admin").get_json()}


# --- services ---------------------------------------------------------------------------------------------------
def test_a_service_named_by_a_string_gets_a_slug_and_the_offices_language(api):
    resp = api.post("/offices/mitte/services", "admin", json={"name": "Führerschein", "prefix": "F"})
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert (created["slug"], created["prefix"], created["names"]) == ("fuehrerschein", "F", {"de": "Führerschein"})
    assert created["range"] == [1, 999] and created["waiting"] == 0
    assert "fuehrerschein" in services(api)


def test_a_service_named_per_language_shows_each_name(api):
    body = {"name": {"de": "Kfz-Zulassung", "en": "Vehicle registration"}, "slug": "kfz", "prefix": "K",
            "range": [100, 199], "daily_cap": 40, "target_wait": 25, "service_minutes": 12}
    resp = api.post("/offices/mitte/services", "admin", json=body)
    assert resp.status_code == 201, resp.get_json()
    kfz = services(api, lang="en")["kfz"]
    assert (kfz["name"], kfz["range"], kfz["daily_cap"], kfz["target_wait"], kfz["service_minutes"]) == (
        "Vehicle registration", [100, 199], 40, 25, 12)
    assert services(api)["kfz"]["name"] == "Kfz-Zulassung"


def test_a_new_service_is_issuable_at_once(api):
    api.post("/offices/mitte/services", "admin", json={"name": "Kfz", "prefix": "K", "range": [1, 99]})
    t = issue(api, "kfz")
    assert (t["code"], t["service"], t["position"]) == ("K01", "kfz", 1)
    assert services(api)["kfz"]["waiting"] == 1


def test_the_same_prefix_is_fine_with_a_number_range_that_does_not_overlap(api):
    resp = api.post("/offices/mitte/services", "admin",
                    json={"name": "Expressausweis", "prefix": "A", "range": [1000, 1999]})
    assert resp.status_code == 201, resp.get_json()
    assert issue(api, "expressausweis")["code"] == "A1000"
    assert issue(api, "ausweis")["code"] == "A001"


def test_a_duplicate_service_slug_is_409_already_exists(api):
    before = snapshot(api)
    resp = api.post("/offices/mitte/services", "admin", json={"name": "Ausweis neu", "slug": "ausweis", "prefix": "Z"})
    assert_error(resp, 409, "already_exists")
    resp = api.post("/offices/mitte/services", "admin", json={"name": "Ausweis", "prefix": "Z"})  # slug from name
    assert_error(resp, 409, "already_exists")
    assert snapshot(api) == before


@pytest.mark.parametrize("body", [
    {"name": "Pässe", "prefix": "A"},  # ausweis: A, 1-999
    {"name": "Pässe", "prefix": "A", "range": [999, 1500]},
    {"name": "Pässe", "prefix": "B", "range": [500, 600]},
])
def test_a_prefix_and_range_that_would_repeat_codes_is_409_code_clash(api, body):
    before = snapshot(api)
    assert_error(api.post("/offices/mitte/services", "admin", json=body), 409, "code_clash")
    assert snapshot(api) == before


def test_services_of_different_offices_may_share_prefix_and_slug(api):
    resp = api.post("/offices/nord/services", "admin", json={"name": "Ausweis", "slug": "ausweis", "prefix": "A"})
    assert resp.status_code == 201, resp.get_json()
    assert issue(api, "ausweis", "kiosk_nord", "nord")["code"] == "A001"


@pytest.mark.parametrize("prefix", ["a", "1", "ABCD", "Ä", "A-", " A"])
def test_an_invalid_prefix_is_422(api, prefix):
    before = snapshot(api)
    error = assert_error(api.post("/offices/mitte/services", "admin", json={"name": "Kfz", "prefix": prefix}),
                         422, "invalid_field")
    assert error["message"].startswith("prefix")
    assert snapshot(api) == before


@pytest.mark.parametrize(("body", "field"), [
    ({"name": {}, "prefix": "K"}, "name"),
    ({"name": {"de": ""}, "prefix": "K"}, "name"),
    ({"name": {"de": "x" * 201}, "prefix": "K", "slug": "lang"}, "name"),
    ({"name": "Kfz", "prefix": "K", "range": [10, 5]}, "range"),
    ({"name": "Kfz", "prefix": "K", "service_minutes": 0}, "service_minutes"),
])
def test_an_invalid_service_is_422_naming_the_field(api, body, field):
    before = snapshot(api)
    error = assert_error(api.post("/offices/mitte/services", "admin", json=body), 422, "invalid_field")
    assert error["message"].startswith(field), error
    assert snapshot(api) == before


def test_a_name_without_letters_needs_an_explicit_slug(api):
    assert_error(api.post("/offices/mitte/services", "admin", json={"name": "!!!", "prefix": "K"}),
                 422, "invalid_slug")
    resp = api.post("/offices/mitte/services", "admin", json={"name": "!!!", "prefix": "K", "slug": "kfz"})
    assert resp.status_code == 201


@pytest.mark.parametrize("role", ["supervisor", "clerk", "agent", "kiosk"])
def test_only_an_admin_may_add_services_or_counters(api, role):
    before = snapshot(api)
    assert_error(api.post("/offices/mitte/services", role, json={"name": "Kfz", "prefix": "K"}), 403, "wrong_role")
    assert_error(api.post("/offices/mitte/counters", role, json={"name": "Schalter 5", "services": ["ausweis"]}),
                 403, "wrong_role")
    assert snapshot(api) == before


def test_an_admin_of_one_office_may_not_configure_another(api):
    before = snapshot(api)
    resp = api.post("/offices/nord/services", "admin_mitte", json={"name": "Kfz", "prefix": "K"})
    assert_error(resp, 403, "wrong_office")
    resp = api.post("/offices/nord/counters", "admin_mitte", json={"name": "Platz 2", "services": ["allgemein"]})
    assert_error(resp, 403, "wrong_office")
    assert snapshot(api) == before
    assert api.post("/offices/mitte/services", "admin_mitte", json={"name": "Kfz", "prefix": "K"}).status_code == 201


# --- counters ---------------------------------------------------------------------------------------------------
def test_a_new_counter_serves_its_services_in_the_given_order(api, clock):
    resp = api.post("/offices/mitte/counters", "admin", json={"name": "Schalter 5",
                                                              "services": ["beglaubigung", "ausweis"]})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json() == {"slug": "schalter-5", "name": "Schalter 5", "state": "closed",
                               "services": ["beglaubigung", "ausweis"]}
    assert counters(api)["schalter-5"]["services"] == ["beglaubigung", "ausweis"]
    issue(api, "ausweis")
    clock.advance(minutes=1)
    issue(api, "beglaubigung")
    assert [call_next(api, "schalter-5")["code"] for _ in range(2)] == ["D001", "A001"]


def test_a_counter_may_be_given_an_explicit_slug(api):
    resp = api.post("/offices/mitte/counters", "admin", json={"name": "Tisch am Fenster", "slug": "tisch-1",
                                                              "services": ["abholung"]})
    assert resp.status_code == 201
    assert counters(api)["tisch-1"]["name"] == "Tisch am Fenster"


@pytest.mark.parametrize("services", [["kfz"], ["ausweis", "kfz"], ["allgemein"]])
def test_a_counter_with_an_unknown_service_is_422(api, services):
    before = snapshot(api)
    resp = api.post("/offices/mitte/counters", "admin", json={"name": "Schalter 5", "services": services})
    assert_error(resp, 422, "unknown_service")
    assert snapshot(api) == before


def test_a_counter_listing_a_service_twice_is_422(api):
    before = snapshot(api)
    resp = api.post("/offices/mitte/counters", "admin", json={"name": "Schalter 5", "services": ["ausweis"] * 2})
    assert_error(resp, 422, "invalid_services")
    assert snapshot(api) == before


def test_a_duplicate_counter_is_409_already_exists(api):
    before = snapshot(api)
    resp = api.post("/offices/mitte/counters", "admin", json={"name": "Schalter 1", "services": ["meldewesen"]})
    assert_error(resp, 409, "already_exists")
    assert snapshot(api) == before
    assert counters(api)["schalter-1"]["services"] == ["ausweis", "abholung"]


def test_a_small_number_range_wraps_and_refuses_numbers_still_in_use(api):
    resp = api.post("/offices/mitte/services", "admin", json={"name": "Kasse", "prefix": "K", "range": [1, 2]})
    assert resp.status_code == 201
    first, _second = issue(api, "kasse"), issue(api, "kasse")
    assert (first["code"], _second["code"]) == ("K1", "K2")
    before = snapshot(api)["queue/mitte"]
    assert_error(api.post("/offices/mitte/tickets", "kiosk", json={"service": "kasse"}), 409, "number_range_exhausted")
    assert snapshot(api)["queue/mitte"] == before
    api.post(f"/tickets/{first['id']}/cancel", "clerk")
    assert issue(api, "kasse")["code"] == "K1"  # K1 is free again: the range starts over

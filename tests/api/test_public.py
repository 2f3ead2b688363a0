"""What anyone may read: a ticket's status by its public token, live waiting times, the health check."""

from __future__ import annotations

from .helpers import act, assert_error, call_next, issue, public_token


def status(api, ticket: dict) -> dict:
    resp = api.get(f"/status/{public_token(ticket)}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_the_token_of_the_status_url_shows_position_and_estimate(api):
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")  # with no counter open there is no estimate
    t = issue(api)
    s = status(api, t)
    assert (s["code"], s["office"], s["service"], s["state"], s["position"]) == ("A001", "mitte", "ausweis",
                                                                                 "waiting", 1)
    assert set(s["estimate"]) == {"low", "high"} and s["estimate"]["low"] < s["estimate"]["high"]
    assert s["office_name"] == "Bürgerbüro Mitte"


def test_the_status_needs_no_token_and_shows_nothing_private(api):
    t = issue(api, request_id="kiosk-3-tap-77", lang="en")
    s = status(api, t)
    assert "request_id" not in s and "id" not in s and "status_url" not in s
    assert s["service_name"] == "ID card and passport"


def test_the_status_follows_the_ticket_to_the_counter(api, clock):
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    first = issue(api)
    mine = issue(api)
    assert (status(api, mine)["position"], status(api, mine)["people_ahead"]) == (2, 1)
    before = status(api, mine)["estimate"]
    call_next(api, "schalter-1")  # the ticket ahead is called
    now = status(api, mine)
    assert (now["state"], now["position"], now["people_ahead"]) == ("waiting", 1, 0)
    assert now["estimate"]["high"] <= before["high"]
    clock.advance(minutes=4)
    call_next(api, "schalter-2")
    called = status(api, mine)
    assert (called["state"], called["counter"], called["counter_name"]) == ("called", "schalter-2", "Schalter 2")
    assert called["position"] is None and called["called_at"] == "2026-11-26T09:04:00Z"
    act(api, mine["id"], "recall")
    assert status(api, mine)["call_count"] == 2
    act(api, mine["id"], "start")
    act(api, mine["id"], "finish")
    assert status(api, mine)["state"] == "done"
    assert status(api, first)["state"] == "called"


def test_an_unknown_status_token_is_404(api):
    issue(api)
    assert_error(api.get("/status/not-a-token"), 404, "ticket_not_found")
    assert_error(api.get("/status/" + "A" * 22), 404, "ticket_not_found")


def test_wait_times_list_every_office_without_a_token(api):
    resp = api.get("/wait-times")
    assert resp.status_code == 200
    offices = {o["office"]: o for o in resp.get_json()}
    assert set(offices) == {"mitte", "nord"}
    assert offices["nord"]["name"] == "Bürgeramt Nord"
    assert [s["slug"] for s in offices["mitte"]["services"]] == ["ausweis", "meldewesen", "abholung", "beglaubigung"]
    assert [s["slug"] for s in offices["nord"]["services"]] == ["allgemein"]
    for service in offices["mitte"]["services"] + offices["nord"]["services"]:
        assert set(service) >= {"slug", "name", "waiting", "open_counters", "estimate", "issuing"}
        assert service["waiting"] == 0


def test_wait_times_follow_the_queue(api):
    issue(api, "allgemein", "kiosk_nord", "nord")
    issue(api, "allgemein", "agent", "nord")
    issue(api, "meldewesen")
    offices = {o["office"]: {s["slug"]: s for s in o["services"]} for o in api.get("/wait-times").get_json()}
    assert offices["nord"]["allgemein"]["waiting"] == 2
    assert offices["mitte"]["meldewesen"]["waiting"] == 1
    assert offices["mitte"]["ausweis"]["waiting"] == 0
    call_next(api, "platz-1", "clerk_nord", "nord")
    offices = {o["office"]: {s["slug"]: s for s in o["services"]} for o in api.get("/wait-times").get_json()}
    assert (offices["nord"]["allgemein"]["waiting"], offices["nord"]["allgemein"]["open_counters"]) == (1, 1)


def test_the_health_check_is_public_and_ok(api):
    resp = api.client.get("/healthz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok" and body["checks"] == {"database": "ok", "printers": "ok"}


def test_an_unknown_page_under_the_api_is_json_even_without_a_token(api):
    assert_error(api.get("/nothing/here"), 404, "not_found")

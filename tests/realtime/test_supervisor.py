"""The /supervisor feed of the live dashboard: who may follow it, its shape, and that it follows every change."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from server.db.models import Office
from server.realtime import socketio
from server.services import estimates


@pytest.fixture
def publisher(app):
    return app.extensions["civicqueue_publisher"]


def connect(app, role_token: str, **auth):
    """Connect after everything already committed has been published, so the snapshot comes alone."""
    app.extensions["civicqueue_publisher"].flush()
    return socketio.test_client(app, namespace="/supervisor", auth={"token": role_token, "office": "mitte"} | auth)


def received(client) -> list[tuple[str, dict]]:
    return [(m["name"], m["args"][0]) for m in client.get_received("/supervisor")]


def last_state(client) -> dict:
    return [m for name, m in received(client) if name in ("snapshot", "state")][-1]


def by_slug(items: list[dict]) -> dict[str, dict]:
    return {i["slug"]: i for i in items}


def test_the_snapshot_has_services_and_counters_with_the_dashboards_fields(app, tokens):
    client = connect(app, tokens["supervisor"])
    [(name, snap)] = received(client)
    assert name == "snapshot"
    assert set(snap) == {"seq", "office", "now", "services", "counters"}
    assert snap["now"] == "2026-11-26T09:00:00Z"  # the server's (fake) clock: the page ticks from it
    service = by_slug(snap["services"])["ausweis"]
    assert set(service) == {"slug", "name", "names", "prefix", "target_wait", "waiting", "open_counters", "estimate",
                            "issuing", "closed_reason", "cutoff", "oldest_waiting_at"}
    assert (service["waiting"], service["target_wait"], service["oldest_waiting_at"]) == (0, 30, None)
    counter = by_slug(snap["counters"])["schalter-1"]
    assert set(counter) == {"slug", "name", "state", "since", "services", "clerk", "ticket"}
    assert counter["state"] == "closed" and counter["clerk"] is None and counter["ticket"] is None


def test_the_longest_wait_is_the_oldest_waiting_tickets_issue_time(app, tokens, api, clock):
    first = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"}).get_json()
    clock.advance(minutes=5)
    api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"})
    api.post("/offices/mitte/tickets", "kiosk", json={"service": "abholung"})
    services = by_slug(last_state(connect(app, tokens["supervisor"]))["services"])
    assert services["ausweis"]["waiting"] == 2
    assert services["ausweis"]["oldest_waiting_at"] == first["created_at"]
    assert services["abholung"]["oldest_waiting_at"] == "2026-11-26T09:05:00Z"
    assert services["meldewesen"]["oldest_waiting_at"] is None
    listed = {s["slug"]: s for s in api.get("/offices/mitte/services", "supervisor").get_json()}
    assert services["ausweis"]["estimate"] == listed["ausweis"]["estimate"]  # the kiosk's, for a ticket drawn now


def test_a_call_is_pushed_with_the_clerk_the_ticket_and_since_when(app, tokens, api, clock, publisher):
    client = connect(app, tokens["supervisor"])
    received(client)
    ticket = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"}).get_json()
    clock.advance(minutes=3)
    api.post("/offices/mitte/counters/schalter-2/call-next", "clerk")
    publisher.flush()
    messages = received(client)
    assert {name for name, _ in messages} == {"state"}  # no deltas: every state replaces the view
    state = messages[-1][1]
    counter = by_slug(state["counters"])["schalter-2"]
    assert counter["state"] == "open" and counter["since"] == "2026-11-26T09:03:00Z"
    assert counter["clerk"] == "t-clerk"  # the token's name; a signed-in clerk shows with the user's name
    assert counter["ticket"] == {"id": ticket["id"], "code": "A001", "service": "ausweis", "state": "called",
                                 "call_count": 1, "since": "2026-11-26T09:03:00Z"}
    assert by_slug(state["services"])["ausweis"]["waiting"] == 0
    assert by_slug(state["services"])["ausweis"]["oldest_waiting_at"] is None


def test_a_recall_restarts_the_ticket_clock_and_a_start_moves_it_to_serving(app, tokens, api, clock):
    tid = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"}).get_json()["id"]
    api.post("/offices/mitte/counters/schalter-1/call-next", "clerk")
    clock.advance(minutes=2)
    api.post(f"/tickets/{tid}/recall", "supervisor")
    ticket = by_slug(last_state(connect(app, tokens["supervisor"]))["counters"])["schalter-1"]
    assert (ticket["clerk"], ticket["ticket"]["call_count"], ticket["ticket"]["since"]) == (
        "t-supervisor", 2, "2026-11-26T09:02:00Z")
    clock.advance(minutes=1)
    api.post(f"/tickets/{tid}/start", "clerk")
    ticket = by_slug(last_state(connect(app, tokens["supervisor"]))["counters"])["schalter-1"]["ticket"]
    assert (ticket["state"], ticket["since"]) == ("serving", "2026-11-26T09:03:00Z")


def test_a_closed_counter_has_no_clerk_and_the_clerk_is_only_todays(app, tokens, api, clock):
    api.post("/offices/mitte/counters/schalter-3/open", "clerk")
    api.post("/offices/mitte/counters/schalter-4/open", "clerk")
    api.post("/offices/mitte/counters/schalter-4/close", "clerk")
    counters = by_slug(last_state(connect(app, tokens["supervisor"]))["counters"])
    assert counters["schalter-3"]["clerk"] == "t-clerk"
    assert (counters["schalter-4"]["state"], counters["schalter-4"]["clerk"]) == ("closed", None)
    clock.advance(days=1)  # still open the next morning, but nobody has worked there yet today
    counters = by_slug(last_state(connect(app, tokens["supervisor"]))["counters"])
    assert counters["schalter-3"]["state"] == "open" and counters["schalter-3"]["clerk"] is None
    assert counters["schalter-3"]["since"] == "2026-11-26T09:00:00Z"


def test_the_cutoff_is_the_services_forecast(app, tokens, api, sqlite_ctx):
    """No opening hours: no cut-off (the page shows a dash); with hours and a counter open, the forecast."""
    assert all(s["cutoff"] is None for s in last_state(connect(app, tokens["supervisor"]))["services"])
    with sqlite_ctx.db.write_session() as session:
        session.execute(update(Office).where(Office.slug == "mitte").values(
            opening_hours={"thu": [["08:00", "11:00"]]}))  # the fake clock's Thursday, 10:00 in Berlin
        session.commit()
    estimates.clear_cache()
    api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    services = by_slug(last_state(connect(app, tokens["supervisor"]))["services"])
    listed = {s["slug"]: s for s in api.get("/offices/mitte/services", "supervisor").get_json()}
    assert services["ausweis"]["cutoff"] is not None
    assert services["ausweis"]["cutoff"] == listed["ausweis"]["cutoff"]


@pytest.mark.parametrize(("role", "office", "allowed"), [
    ("supervisor", "mitte", True),
    ("admin", "mitte", True),
    ("admin_mitte", "mitte", True),
    ("clerk", "mitte", False),
    ("supervisor_nord", "mitte", False),
    ("supervisor", "nord", False),
    ("display", "mitte", False),
])
def test_only_supervisors_and_admins_of_the_office_may_follow_it(app, tokens, role, office, allowed):
    client = socketio.test_client(app, namespace="/supervisor", auth={"token": tokens[role], "office": office})
    assert client.is_connected("/supervisor") is allowed


def test_resync_sends_a_fresh_snapshot(app, tokens, api):
    client = connect(app, tokens["supervisor"])
    received(client)
    api.post("/offices/mitte/tickets", "kiosk", json={"service": "abholung"})
    client.emit("resync", namespace="/supervisor")
    snaps = [m for name, m in received(client) if name == "snapshot"]
    assert snaps[-1]["seq"] == 1 and by_slug(snaps[-1]["services"])["abholung"]["waiting"] == 1


def test_a_signed_in_supervisor_follows_the_dashboard_even_with_a_device_cookie(app, tokens, sqlite_ctx):
    """A browser that was once paired as a kiosk and where a supervisor signs in: the staff session counts on
    the staff namespaces; the kiosk cookie alone would be refused there (and still counts on /kiosk)."""
    from server.auth.users import add_user
    from server.web.devices import COOKIE
    from tests.api.test_staff_sessions import sign_in

    add_user(sqlite_ctx, "sina", "supervisor", "a-long-secret-1", ["mitte"])
    browser = app.test_client()
    browser.set_cookie(COOKIE, tokens["kiosk"])
    alone = socketio.test_client(app, namespace="/supervisor", auth={"office": "mitte"}, flask_test_client=browser)
    assert not alone.is_connected("/supervisor")
    assert sign_in(browser, "sina", "a-long-secret-1").status_code == 302
    for namespace in ("/supervisor", "/counter"):
        client = socketio.test_client(app, namespace=namespace, auth={"office": "mitte"}, flask_test_client=browser)
        assert client.is_connected(namespace), namespace
        assert [m["name"] for m in client.get_received(namespace)][:1] == ["snapshot"]
    kiosk = socketio.test_client(app, namespace="/kiosk", auth={"office": "mitte"}, flask_test_client=browser)
    assert kiosk.is_connected("/kiosk")

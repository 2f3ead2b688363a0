"""The audit log: every staff write through the API (allowed or refused) is recorded; supervisors and admins
read it, filtered and paged, as JSON or CSV; the database refuses to change it."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from server.api.audit_hook import ACTIONS, WRITES
from server.auth.tokens import create_token
from server.db.models import AuditEntry
from server.services import audit
from server.services.printing import set_printer

from .helpers import act, assert_error, body_text, call_next, issue

COLUMNS = ["at", "actor", "role", "office", "action", "target", "ip", "details"]


def page(api, role: str = "admin", **params) -> dict:
    resp = api.get("/audit", role, query_string=params)
    assert resp.status_code == 200, body_text(resp)
    return resp.get_json()


def entries(api, role: str = "admin", **params) -> list[dict]:
    return page(api, role, **params)["entries"]


def post(api, path: str, role: str = "clerk", expect: int = 200, **json_body):
    resp = api.post(path, role, json=json_body or None)
    assert resp.status_code == expect, body_text(resp)
    return resp.get_json() if resp.is_json else None


def open_counter(api, role: str = "clerk", office: str = "mitte", counter: str = "schalter-1", verb: str = "open"):
    return post(api, f"/offices/{office}/counters/{counter}/{verb}", role)


def csv_rows(resp) -> list[list[str]]:
    assert resp.status_code == 200 and resp.mimetype == "text/csv", body_text(resp)
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True))))


# --- what is recorded ----------------------------------------------------------------------------------------

def test_a_staff_write_is_recorded_with_who_what_where_and_outcome(api):
    ticket = issue(api)
    call_next(api)
    [entry] = entries(api)
    assert entry["action"] == "counter.call_next"
    assert (entry["actor"], entry["role"], entry["office"], entry["target"]) == ("t-clerk", "clerk", "mitte",
                                                                                "mitte/schalter-1")
    assert entry["ip"] == "127.0.0.1"
    assert entry["at"] == "2026-11-26T09:00:00Z"  # the fake clock
    assert entry["details"] == {"status": 200, "ticket": {"id": ticket["id"], "code": ticket["code"]}}


def test_ticket_actions_name_the_ticket_its_office_and_their_fields(api):
    ticket = issue(api)
    call_next(api)
    act(api, ticket["id"], "no-show")
    second = issue(api)
    act(api, second["id"], "transfer", service="meldewesen", position="front")
    transfer, no_show = entries(api)[:2]
    assert (no_show["action"], no_show["target"], no_show["office"]) == ("ticket.no_show", f"ticket {ticket['id']}",
                                                                         "mitte")
    assert transfer["action"] == "ticket.transfer"
    assert transfer["details"] == {"status": 200, "service": "meldewesen", "position": "front",
                                   "ticket": {"id": second["id"], "code": second["code"]}}


def test_each_kind_of_write_gets_its_stable_action_name(api, app, sqlite_ctx):
    set_printer(sqlite_ctx, "mitte", "t-kiosk", {"backend": "usb", "paper": 80, "timeout": 1.0})
    failed = issue(api)  # with no agent connected, the kiosk's USB print job fails at once
    app.extensions["civicqueue_spooler"].wait_idle()
    for verb in ("open", "pause", "close"):
        open_counter(api, verb=verb)
    called = call_next(api)  # the only waiting ticket: `failed`
    waiting = issue(api)
    for action in ("recall", "start", "park"):
        act(api, called["id"], action)
    post(api, "/offices/mitte/counters/schalter-3/call", ticket=called["id"])
    act(api, called["id"], "requeue", position="back")
    act(api, waiting["id"], "cancel")
    post(api, f"/tickets/{called['id']}/reprint", expect=202)
    post(api, f"/print-jobs/{failed['print']['id']}/retry", expect=202)
    post(api, "/offices/mitte/tickets", expect=201, service="abholung")
    post(api, "/offices/mitte/services", "admin", expect=201, name="Fundbüro", prefix="F")
    post(api, "/offices/mitte/counters", "admin", expect=201, name="Platz 9", services=["ausweis"])
    post(api, f"/tickets/{called['id']}/frobnicate", expect=422)
    app.extensions["civicqueue_spooler"].wait_idle()

    names = [e["action"] for e in reversed(entries(api))]
    assert names == ["counter.open", "counter.pause", "counter.close", "counter.call_next", "ticket.recall",
                     "ticket.start", "ticket.park", "counter.call", "ticket.requeue", "ticket.cancel",
                     "ticket.reprint", "print_job.retry", "ticket.issue", "service.create", "counter.create",
                     "ticket.unknown_action"]
    retry = entries(api, action="print_job.")[0]
    assert retry["target"] == f"print job {failed['print']['id']}" and retry["office"] == "mitte"
    assert retry["details"]["ticket"] == {"id": failed["id"], "code": failed["code"]}


def test_every_api_write_route_has_an_action_name(app):
    writes = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api.") and rule.methods & WRITES}
    assert writes, "expected write routes on the api blueprint"
    assert writes - set(ACTIONS) == set(), "give these endpoints an action name in server/api/audit_hook.py"


def test_kiosk_tickets_reads_and_devices_are_not_recorded(api):
    issue(api)
    issue(api, role="kiosk_nord", office="nord", service="allgemein")
    for path, role in (("/offices/mitte/queue", "clerk"), ("/offices/mitte/counters", "admin"),
                       ("/offices/mitte/stats", "supervisor"), ("/offices", "agent"), ("/audit", "admin")):
        assert api.get(path, role).status_code == 200
    assert_error(api.post("/offices/mitte/counters/schalter-1/open", "kiosk"), 403, "wrong_role")
    assert_error(api.post("/offices/mitte/tickets", "display", json={"service": "ausweis"}), 403, "wrong_role")
    assert entries(api) == []


def test_an_agent_issuing_by_phone_is_recorded(api):
    ticket = issue(api, role="agent", office="nord", service="allgemein")
    [entry] = entries(api)
    assert (entry["action"], entry["role"], entry["office"]) == ("ticket.issue", "agent", "nord")
    assert entry["details"] == {"status": 201, "service": "allgemein",
                                "ticket": {"id": ticket["id"], "code": ticket["code"]}}


def test_refused_staff_writes_are_recorded_with_their_status(api):
    waiting = issue(api)
    assert_error(api.post("/offices/mitte/services", "clerk", json={"name": "X"}), 403, "wrong_role")
    assert_error(api.post(f"/tickets/{waiting['id']}/finish", "clerk"), 409, "invalid_transition")
    transfer = api.post(f"/tickets/{waiting['id']}/transfer", "clerk", json={"service": "ausweis",
                                                                            "position": "sideways"})
    assert_error(transfer, 422, "invalid_field")
    assert_error(api.post("/offices/mitte/counters/schalter-1/open", "clerk_nord"), 403, "wrong_office")
    seen = [(e["action"], e["actor"], e["office"], e["details"]["status"]) for e in reversed(entries(api))]
    assert seen == [("service.create", "t-clerk", "mitte", 403), ("ticket.finish", "t-clerk", "mitte", 409),
                    ("ticket.transfer", "t-clerk", "mitte", 422), ("counter.open", "t-clerk-nord", "mitte", 403)]


def test_requests_without_a_valid_token_are_not_recorded(api):
    assert_error(api.post("/offices/mitte/counters/schalter-1/open"), 401, "unauthorized")
    bad = api.post("/offices/mitte/counters/schalter-1/open", headers={"Authorization": "Bearer nope"})
    assert_error(bad, 401, "invalid_token")
    assert entries(api) == []


def test_passwords_tokens_and_long_texts_never_reach_the_log(api):
    resp = api.post("/offices/mitte/services", "admin", json={"name": "Fundbüro", "prefix": "F",
                                                              "password": "hunter2-geheim", "token": "abc123"})
    assert_error(resp, 422, "invalid_field")
    post(api, "/offices/mitte/counters", "admin", expect=201, name="P" * 200, services=["ausweis"], slug="lang")
    long_name, refused = entries(api)
    assert refused["details"] == {"status": 422, "name": "Fundbüro", "prefix": "F"}
    assert long_name["details"]["name"] == "P" * 100
    dumped = json.dumps([refused, long_name])
    assert "hunter2" not in dumped and "abc123" not in dumped and api.tokens["admin"] not in dumped


def test_a_failing_audit_write_is_logged_and_the_response_stands(api, sqlite_ctx, caplog):
    with sqlite_ctx.db.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_log"))
    resp = api.post("/offices/mitte/counters/schalter-1/open", "clerk")
    assert resp.status_code == 200 and resp.get_json()["state"] == "open", body_text(resp)
    failures = [r for r in caplog.records if r.name == "server.api.audit_hook" and r.exc_info]
    assert failures and "audit entry" in failures[0].getMessage()


# --- reading: filters, paging, CSV, scope ---------------------------------------------------------------------

@pytest.fixture
def three_days(api, clock) -> None:
    """Day 1 (2026-11-26): the mitte clerk opens schalter-1. Day 2: nord opens platz-1, the supervisor pauses
    schalter-1. Day 3: the admin creates a counter in mitte."""
    open_counter(api)
    clock.advance(days=1)
    open_counter(api, "clerk_nord", "nord", "platz-1")
    open_counter(api, "supervisor", verb="pause")
    clock.advance(days=1)
    post(api, "/offices/mitte/counters", "admin", expect=201, name="Platz 9", services=["ausweis"])


def actions(found: list[dict]) -> list[str]:
    return [e["action"] for e in found]


@pytest.mark.usefixtures("three_days")
def test_filters_by_office_user_action_and_utc_day(api):
    assert actions(entries(api)) == ["counter.create", "counter.pause", "counter.open", "counter.open"]
    assert [e["target"] for e in entries(api, office="nord")] == ["nord/platz-1"]
    assert actions(entries(api, user="t-supervisor")) == ["counter.pause"]
    assert actions(entries(api, action="counter.open")) == ["counter.open", "counter.open"]
    assert actions(entries(api, action="counter.")) == ["counter.create", "counter.pause", "counter.open",
                                                        "counter.open"]
    assert entries(api, action="counter_") == []  # '_' is no wildcard here
    assert entries(api, action="ticket.") == []
    assert actions(entries(api, **{"from": "2026-11-27", "to": "2026-11-27"})) == ["counter.pause", "counter.open"]
    assert actions(entries(api, **{"from": "2026-11-28"})) == ["counter.create"]
    assert actions(entries(api, to="2026-11-26")) == ["counter.open"]
    assert actions(entries(api, office="mitte", **{"from": "2026-11-27"})) == ["counter.create", "counter.pause"]


@pytest.mark.usefixtures("three_days")
def test_pages_go_back_by_id_until_next_before_is_null(api):
    everything = entries(api)
    first = page(api, limit=3)
    assert first["entries"] == everything[:3] and first["next_before"] == everything[2]["id"]
    second = page(api, limit=3, before=first["next_before"])
    assert second == {"entries": everything[3:], "next_before": None}
    assert page(api, limit=4)["next_before"] is None  # exactly one full page: nothing more to fetch


@pytest.mark.parametrize(("query", "code"), [
    ({"limit": "0"}, "invalid_limit"), ({"limit": "501"}, "invalid_limit"), ({"limit": "ten"}, "invalid_limit"),
    ({"before": "-1"}, "invalid_before"), ({"before": "x"}, "invalid_before"),
    ({"before": str(2**63)}, "invalid_before"), ({"from": "2026-13-01"}, "invalid_date"),
    ({"to": "yesterday"}, "invalid_date"), ({"from": "0001-01-01"}, "invalid_date"),
    ({"from": "2026-11-27", "to": "2026-11-26"}, "invalid_range"), ({"action": "Ticket!"}, "invalid_action"),
    ({"user": "u" * 101}, "invalid_user"), ({"office": "o" * 65}, "invalid_office"),
])
def test_bad_filters_get_a_422(api, query, code):
    assert_error(api.get("/audit", "admin", query_string=query), 422, code)


def test_an_unknown_or_foreign_office_filter_is_refused_like_everywhere(api):
    assert_error(api.get("/audit", "admin", query_string={"office": "nirgendwo"}), 404, "office_not_found")
    assert_error(api.get("/audit", "supervisor", query_string={"office": "nord"}), 403, "wrong_office")


@pytest.mark.usefixtures("three_days")
def test_csv_has_a_header_and_the_same_rows_as_json(api):
    resp = api.get("/audit", "admin", headers={"Accept": "text/csv"}, query_string={"action": "counter.open"})
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    header, *rows = csv_rows(resp)
    assert header == COLUMNS
    expected = entries(api, action="counter.open")
    assert len(rows) == len(expected) == 2
    for row, entry in zip(rows, expected, strict=True):
        assert row[:7] == [entry[c] or "" for c in COLUMNS[:7]]
        assert json.loads(row[7]) == entry["details"]


@pytest.mark.usefixtures("three_days")
def test_csv_pages_through_its_link_header(api):
    resp = api.get("/audit", "admin", headers={"Accept": "text/csv"}, query_string={"limit": "3"})
    assert len(csv_rows(resp)) == 1 + 3
    link = resp.headers["Link"]
    assert link.endswith('>; rel="next"')
    rest = api.client.get(link[1:link.index(">")], headers={"Authorization": f"Bearer {api.tokens['admin']}",
                                                            "Accept": "text/csv"})
    assert [row[4] for row in csv_rows(rest)[1:]] == ["counter.open"]
    assert "Link" not in rest.headers


def test_csv_cells_that_look_like_formulas_stay_text(api, sqlite_ctx):
    name = '=HYPERLINK("http://example.invalid","click")'
    token = create_token(sqlite_ctx, name, role="clerk", device=None, office_slug="mitte")
    resp = api.client.post("/api/v1/offices/mitte/counters/schalter-1/open",
                           headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, body_text(resp)
    assert entries(api)[0]["actor"] == name
    [_header, row] = csv_rows(api.get("/audit", "admin", headers={"Accept": "text/csv"}))
    assert row[1] == "'" + name


def test_supervisors_see_their_offices_and_their_own_entries_admins_see_all(api):
    open_counter(api)                                                  # mitte
    open_counter(api, "clerk_nord", "nord", "platz-1")                 # nord
    post(api, "/offices/atlantis/counters/x/open", "supervisor", 404)  # no office: the supervisor's own
    post(api, "/offices/atlantis/counters/x/open", "clerk", 404)       # no office, someone else's

    def seen(role: str) -> set[tuple[str, str]]:
        return {(e["actor"], e["target"]) for e in entries(api, role)}

    mitte, nord = ("t-clerk", "mitte/schalter-1"), ("t-clerk-nord", "nord/platz-1")
    own, other = ("t-supervisor", "atlantis/x"), ("t-clerk", "atlantis/x")
    assert seen("supervisor") == {mitte, own}
    assert seen("supervisor_nord") == {nord}
    assert seen("admin_mitte") == {mitte}
    assert seen("admin") == {mitte, nord, own, other}
    for role in ("clerk", "agent", "kiosk", "display"):
        assert_error(api.get("/audit", role), 403, "wrong_role")


def test_the_audit_log_is_append_only_on_sqlite(sqlite_ctx):
    audit.record(sqlite_ctx, None, "login_failed", name="someone", ip="192.0.2.7")
    for stmt in (update(AuditEntry).values(action="tampered"), delete(AuditEntry)):
        with sqlite_ctx.db.write_session() as session, pytest.raises(DBAPIError) as info:
            session.execute(stmt)
            session.commit()
        assert "append-only" in str(info.value)
    with sqlite_ctx.db.read_session() as session:
        assert [(e.action, e.actor, e.ip) for e in session.scalars(select(AuditEntry))] == [
            ("login_failed", "someone", "192.0.2.7")]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_audit_page_refuses_dates_at_the_calendars_edges(app, sqlite_ctx, day):
    """The page's date filter shares the API's date rule: a day whose UTC bounds overflow is a 400, not a 500."""
    from server.auth.users import add_user
    from tests.api.test_staff_sessions import sign_in

    add_user(sqlite_ctx, "ada", "admin", "a-long-secret-1", [])
    browser = app.test_client()
    assert sign_in(browser, "ada", "a-long-secret-1").status_code == 302
    assert browser.get(f"/admin/mitte/audit?from={day}").status_code == 400
    assert browser.get("/admin/mitte/audit?from=2026-11-01").status_code == 200

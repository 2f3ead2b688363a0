"""Who may call what: every endpoint of the contract x anonymous, each role, and tokens of another office.

The matrix is written out from DESIGN.md ("The contract", roles), not derived from server/auth/roles.py, so a
change of the server's role lists that breaks the contract fails here. test_every_api_route_is_in_the_matrix
makes sure a new route cannot be added without deciding who may call it.

The matrix runs on one database per module (about 350 requests would otherwise each build a fresh database).
Every test prepares what it needs itself and compares the state before and after its own request, so the tests
do not depend on one another; the fake clock moves one day per test so daily numbering and caps restart.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from server.app import create_app
from server.config import DEMO_CONFIG, load_settings
from server.queue import Action
from server.services.context import Context
from server.services.layout import import_layout
from tests.conftest import TEST_LAYOUT, ApiClient, make_tokens
from tests.support import databases
from tests.support.fakes import FakeClock

from .helpers import ROLES, as_role, assert_error, body_text, office_seqs, public_token

# --- expectations, one cell per role in ROLES order ---------------------------------------------------------
# ok = allowed (the row's success status); 401 = no token; role = 403 wrong_role; office = 403 wrong_office.
#               anon   admin  admin_mitte supervisor clerk  agent  kiosk  display clerk_nord supervisor_nord kiosk_nord
PUBLIC =       "ok     ok     ok          ok         ok     ok     ok     ok      ok         ok              ok"
LIST_OFFICES = "401    ok     ok          ok         ok     ok     ok     role    ok         ok              ok"
# kiosk: read services and issue for its office; agent: every office; display: only listens.
MITTE_KIOSK =  "401    ok     ok          ok         ok     ok     ok     role    office     office          office"
# clerk and up work counters and tickets of their office; agents, kiosks and displays do not.
MITTE_STAFF =  "401    ok     ok          ok         ok     role   role   role    office     office          role"
MITTE_STATS =  "401    ok     ok          ok         role   role   role   role    role       office          role"
MITTE_CONFIG = "401    ok     ok          role       role   role   role   role    role       role            role"
NORD_KIOSK =   "401    ok     office      office     office ok     office role    ok         ok              ok"
NORD_STAFF =   "401    ok     office      office     office role   role   role    ok         ok              role"
NORD_STATS =   "401    ok     office      office     role   role   role   role    role       ok              role"
NORD_CONFIG =  "401    ok     office      role       role   role   role   role    role       role            role"
# print jobs and ticket images: the office's kiosks (their own tickets' printing) and its staff.
MITTE_PRINT =  "401    ok     ok          ok         ok     role   ok     role    office     office          office"
# the audit log: supervisors read their offices' entries, admins all (office scoping is in test_audit.py).
AUDIT_LOG =    "401    ok     ok          ok         role   role   role   role    role       ok              role"
# new offices: only an admin of the whole city.
CITY_CONFIG =  "401    ok     office      role       role   role   role   role    role       role            role"

DENIED = {"401": (401, "unauthorized"), "role": (403, "wrong_role"), "office": (403, "wrong_office")}


def expectations(line: str) -> dict[str, str]:
    cells = line.split()
    assert len(cells) == len(ROLES), line
    return dict(zip(ROLES, cells, strict=True))


# --- what a row needs before its request --------------------------------------------------------------------
def nothing(api) -> dict:
    return {}


def _ticket(api, office="mitte", service="ausweis") -> dict:
    resp = api.post(f"/offices/{office}/tickets", "admin", json={"service": service})
    assert resp.status_code == 201, body_text(resp)
    t = resp.get_json()
    return {"ticket": t["id"], "token": public_token(t)}


def waiting_ticket(api) -> dict:
    return _ticket(api)


def called_ticket(api, office="mitte", service="ausweis", counter="schalter-2") -> dict:
    values = _ticket(api, office, service)
    resp = api.post(f"/offices/{office}/counters/{counter}/call", "admin", json={"ticket": values["ticket"]})
    assert resp.status_code == 200, body_text(resp)
    return values


def serving_ticket(api) -> dict:
    values = called_ticket(api)
    assert api.post(f"/tickets/{values['ticket']}/start", "admin").status_code == 200
    return values


def nord_waiting_ticket(api) -> dict:
    return _ticket(api, "nord", "allgemein")


def nord_called_ticket(api) -> dict:
    return called_ticket(api, "nord", "allgemein", "platz-1")


def _kiosk_printer(api, backend: str = "usb") -> None:
    """The kiosk gets an agent printer; with no agent connected its jobs fail at once (agent_offline)."""
    from server.services.printing import set_printer

    set_printer(api.ctx, "mitte", "t-kiosk", {"backend": backend, "paper": 80, "timeout": 1.0})


def failed_print_job(api) -> dict:
    _kiosk_printer(api)
    resp = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"})
    assert resp.status_code == 201 and resp.get_json()["print"], body_text(resp)
    api.spooler.wait_idle()
    job = api.get(f"/print-jobs/{resp.get_json()['print']['id']}", "admin").get_json()
    assert job["state"] == "failed", job
    return {"job": job["id"], "ticket": job["ticket"]["id"], "token": public_token(resp.get_json())}


def ticket_with_printer(api) -> dict:
    _kiosk_printer(api)
    return _ticket(api)


def issuing(path: str, open_: bool) -> Callable:
    """Set ticket issue (of the office, or a service) by the admin: a setup, or a teardown that reopens."""
    def change(api, _values=None) -> dict:
        resp = api.post(f"/offices/mitte{path}/issuing", "admin", json={"open": open_})
        assert resp.status_code == 200 and resp.get_json()["issuing"] is open_, body_text(resp)
        return {}
    return change


def counter_in(state: str) -> Callable:
    verb = {"open": "open", "paused": "pause", "closed": "close"}[state]

    def setup(api) -> dict:
        resp = api.post(f"/offices/mitte/counters/schalter-1/{verb}", "admin")
        assert resp.status_code == 200 and resp.get_json()["state"] == state, body_text(resp)
        return {}
    return setup


def nord_counter_open(api) -> dict:
    resp = api.post("/offices/nord/counters/platz-1/open", "admin")
    assert resp.status_code == 200 and resp.get_json()["state"] == "open", body_text(resp)
    return {}


_devices = itertools.count(1)


def new_device(api) -> dict:
    name = f"geraet-{next(_devices)}"
    resp = api.post("/offices/mitte/devices", "admin", json={"name": name, "kind": "display"})
    assert resp.status_code == 201, body_text(resp)
    return {"device": name, "code": resp.get_json()["pairing"]["code"]}


def device_body(values: dict, role: str) -> dict:
    return {"name": f"Gerät {role}", "kind": "kiosk"}


def new_service(values: dict, role: str) -> dict:
    i = ROLES.index(role)
    return {"name": f"Dienst {role}", "slug": f"dienst-{i}", "prefix": "X" + chr(ord("A") + i)}


def new_counter(values: dict, role: str) -> dict:
    return {"name": f"Platz {role}", "slug": f"platz-x{ROLES.index(role)}", "services": ["ausweis"]}


def reversed_services(api) -> dict:
    resp = api.get("/offices/mitte/services", "admin")
    assert resp.status_code == 200, body_text(resp)
    return {"order": [s["slug"] for s in reversed(resp.get_json())]}


def new_office(values: dict, role: str) -> dict:
    return {"name": f"Amt {role}", "slug": f"amt-{ROLES.index(role)}"}


_users = itertools.count(1)
PASSWORD = "a-long-secret-1"


def new_user(office: str) -> Callable:
    def setup(api) -> dict:
        body = {"name": f"nutzer-{next(_users)}", "role": "clerk", "offices": [office], "password": PASSWORD}
        resp = api.post("/users", "admin", json=body)
        assert resp.status_code == 201, body_text(resp)
        return {"user": resp.get_json()["id"]}
    return setup


def new_user_body(office: str) -> Callable:
    return lambda values, role: {"name": f"{office}-{role}", "role": "clerk", "offices": [office], "password": PASSWORD}


def every_user(api, values: dict) -> list:
    """Users are no office's events: what a user write changes (or must not) is read from their rows."""
    from sqlalchemy import select

    from server.db.models import User

    with api.ctx.db.read_session() as session:
        return sorted((u.name, u.role, u.active, u.password_hash, sorted(o.slug for o in u.offices))
                      for u in session.scalars(select(User)))


def new_kiosk(office: str) -> Callable:
    def setup(api) -> dict:
        name = f"kiosk-{next(_devices)}"
        resp = api.post(f"/offices/{office}/devices", "admin", json={"name": name, "kind": "kiosk"})
        assert resp.status_code == 201, body_text(resp)
        return {"device": name}
    return setup


USB_PRINTER = {"backend": "usb", "vendor": "0x04b8", "product": "0x0e28"}


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str  # full path; {ticket}, {token}, {job}, {device} and {user} come from the setup
    expect: str
    ok: int = 200
    mimetype: str = "application/json"
    teardown: Callable[..., None] | None = None  # puts back what a permitted request changed for later rows
    setup: Callable[..., dict] = nothing
    body: dict | Callable[[dict, str], dict] | None = None
    office: str | Callable[[str], str] = "mitte"  # whose event seq a permitted write moves (by role)
    state: Callable[..., object] | None = None  # what a permitted write changes when no office event records it

    @property
    def writes(self) -> bool:
        return self.method != "GET"

    def json(self, values: dict, role: str):
        return self.body(values, role) if callable(self.body) else self.body


V1 = "/api/v1"
M = f"{V1}/offices/mitte"
N = f"{V1}/offices/nord"
TICKET_ACTIONS = {
    # action: (ticket state it is allowed from, body)
    "recall": (called_ticket, None),
    "start": (called_ticket, None),
    "finish": (serving_ticket, None),
    "no-show": (called_ticket, None),
    "requeue": (called_ticket, {"position": "front"}),
    "park": (serving_ticket, None),
    "cancel": (waiting_ticket, None),
    "transfer": (called_ticket, {"service": "meldewesen", "position": "back"}),
}
MATRIX = [
    Row("list offices", "GET", f"{V1}/offices", LIST_OFFICES),
    Row("read services", "GET", f"{M}/services", MITTE_KIOSK),
    Row("create service", "POST", f"{M}/services", MITTE_CONFIG, ok=201, body=new_service),
    Row("read counters", "GET", f"{M}/counters", MITTE_STAFF),
    Row("create counter", "POST", f"{M}/counters", MITTE_CONFIG, ok=201, body=new_counter),
    Row("issue ticket", "POST", f"{M}/tickets", MITTE_KIOSK, ok=201, body={"service": "ausweis"}),
    Row("read queue", "GET", f"{M}/queue", MITTE_STAFF),
    Row("open counter", "POST", f"{M}/counters/schalter-1/open", MITTE_STAFF, setup=counter_in("closed")),
    Row("pause counter", "POST", f"{M}/counters/schalter-1/pause", MITTE_STAFF, setup=counter_in("open")),
    Row("close counter", "POST", f"{M}/counters/schalter-1/close", MITTE_STAFF, setup=counter_in("open")),
    Row("call next", "POST", f"{M}/counters/schalter-1/call-next", MITTE_STAFF, setup=waiting_ticket),
    Row("call a given ticket", "POST", f"{M}/counters/schalter-3/call", MITTE_STAFF, setup=waiting_ticket,
        body=lambda values, role: {"ticket": values["ticket"]}),
    *(Row(f"ticket {action}", "POST", f"{V1}/tickets/{{ticket}}/{action}", MITTE_STAFF, setup=setup, body=body)
      for action, (setup, body) in TICKET_ACTIONS.items()),
    Row("ticket status", "GET", f"{V1}/status/{{token}}", PUBLIC, setup=waiting_ticket),
    Row("wait times", "GET", f"{V1}/wait-times", PUBLIC),
    Row("openapi document", "GET", f"{V1}/openapi.json", PUBLIC),
    Row("health check", "GET", "/healthz", PUBLIC),
    Row("stats", "GET", f"{M}/stats", MITTE_STATS),
    Row("nord: read services", "GET", f"{N}/services", NORD_KIOSK),
    Row("nord: issue ticket", "POST", f"{N}/tickets", NORD_KIOSK, ok=201, body={"service": "allgemein"},
        office="nord"),
    Row("nord: create service", "POST", f"{N}/services", NORD_CONFIG, ok=201, body=new_service, office="nord"),
    Row("nord: read counters", "GET", f"{N}/counters", NORD_STAFF),
    Row("nord: read queue", "GET", f"{N}/queue", NORD_STAFF),
    Row("nord: close counter", "POST", f"{N}/counters/platz-1/close", NORD_STAFF, office="nord",
        setup=nord_counter_open),
    Row("nord: call next", "POST", f"{N}/counters/platz-1/call-next", NORD_STAFF, setup=nord_waiting_ticket,
        office="nord"),
    Row("nord: start a ticket", "POST", f"{V1}/tickets/{{ticket}}/start", NORD_STAFF, setup=nord_called_ticket,
        office="nord"),
    Row("nord: stats", "GET", f"{N}/stats", NORD_STATS),
    Row("print job", "GET", f"{V1}/print-jobs/{{job}}", MITTE_PRINT, setup=failed_print_job),
    Row("retry a print job", "POST", f"{V1}/print-jobs/{{job}}/retry", MITTE_PRINT, ok=202,
        setup=failed_print_job),
    Row("print job image", "GET", f"{V1}/print-jobs/{{job}}/image.png", MITTE_PRINT, setup=failed_print_job,
        mimetype="image/png"),
    Row("reprint a ticket", "POST", f"{V1}/tickets/{{ticket}}/reprint", MITTE_STAFF, ok=202,
        setup=ticket_with_printer),
    Row("ticket image", "GET", f"{V1}/tickets/{{ticket}}/ticket.png", MITTE_PRINT, setup=waiting_ticket,
        mimetype="image/png"),
    Row("devices", "GET", f"{M}/devices", MITTE_STAFF),
    Row("stop ticket issue (office)", "POST", f"{M}/issuing", MITTE_STATS, setup=issuing("", True),
        body={"open": False}, teardown=issuing("", True)),
    Row("stop ticket issue (service)", "POST", f"{M}/services/ausweis/issuing", MITTE_STATS,
        setup=issuing("/services/ausweis", True), body={"open": False}, teardown=issuing("/services/ausweis", True)),
    Row("print jobs", "GET", f"{M}/print-jobs", MITTE_STAFF),
    Row("audit log", "GET", f"{V1}/audit", AUDIT_LOG),
    Row("create device", "POST", f"{M}/devices", MITTE_CONFIG, ok=201, body=device_body),
    Row("new pairing code", "POST", f"{M}/devices/{{device}}/pairing", MITTE_CONFIG, ok=201, setup=new_device),
    Row("revoke device", "POST", f"{M}/devices/{{device}}/revoke", MITTE_CONFIG, setup=new_device),
    Row("pair a device", "POST", f"{V1}/pair", PUBLIC, setup=new_device,
        body=lambda values, role: {"code": values["code"]}),
    Row("read an office", "GET", M, MITTE_KIOSK),
    Row("create office", "POST", f"{V1}/offices", CITY_CONFIG, ok=201, body=new_office,
        office=lambda role: f"amt-{ROLES.index(role)}"),
    Row("change office", "PATCH", M, MITTE_CONFIG, body=lambda values, role: {"name": f"Bürgeramt Mitte {role}"}),
    Row("nord: change office", "PATCH", N, NORD_CONFIG, office="nord",
        body=lambda values, role: {"name": f"Bürgeramt Nord {role}"}),
    Row("change service", "PATCH", f"{M}/services/ausweis", MITTE_CONFIG,
        body=lambda values, role: {"target_wait": 10 + ROLES.index(role)}),
    Row("order services", "POST", f"{M}/service-order", MITTE_CONFIG, setup=reversed_services,
        body=lambda values, role: values),
    Row("change counter", "PATCH", f"{M}/counters/schalter-3", MITTE_CONFIG,
        body=lambda values, role: {"name": f"Schalter 3 {role}"}),
    Row("list users", "GET", f"{V1}/users", MITTE_CONFIG, state=every_user),
    Row("create user", "POST", f"{V1}/users", MITTE_CONFIG, ok=201, body=new_user_body("mitte"), state=every_user),
    Row("nord: create user", "POST", f"{V1}/users", NORD_CONFIG, ok=201, body=new_user_body("nord"),
        state=every_user),
    Row("change user", "PATCH", f"{V1}/users/{{user}}", MITTE_CONFIG, setup=new_user("mitte"),
        body={"role": "supervisor"}, state=every_user),
    Row("nord: change user", "PATCH", f"{V1}/users/{{user}}", NORD_CONFIG, setup=new_user("nord"),
        body={"active": False}, state=every_user),
    Row("set a user's password", "POST", f"{V1}/users/{{user}}/password", MITTE_CONFIG, setup=new_user("mitte"),
        body={"password": "another-long-secret"}, state=every_user),
    Row("nord: set a user's password", "POST", f"{V1}/users/{{user}}/password", NORD_CONFIG,
        setup=new_user("nord"), body={"password": "another-long-secret"}, state=every_user),
    Row("set a kiosk's printer", "PUT", f"{M}/devices/{{device}}/printer", MITTE_CONFIG, setup=new_kiosk("mitte"),
        body=USB_PRINTER),
    Row("nord: set a kiosk's printer", "PUT", f"{N}/devices/{{device}}/printer", NORD_CONFIG,
        setup=new_kiosk("nord"), body=USB_PRINTER, office="nord"),
]
CASES = [pytest.param(row, role, id=f"{row.name}-{role}") for row in MATRIX for role in ROLES]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One app and database for the whole matrix (see the module docstring)."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ("QMS_DATABASE_URL", "QMS_MESSAGE_QUEUE", "QMS_CONFIG", "QMS_PUBLIC_URL"):
            mp.delenv(var, raising=False)
        mp.setenv("QMS_SECRET_KEY", "test-secret")
        settings = load_settings(extra_files=[DEMO_CONFIG, TEST_LAYOUT])
        db = databases.migrated(databases.new_sqlite_url(tmp_path_factory.mktemp("roles")))
        clock = FakeClock()
        ctx = Context(db=db, clock=clock, base_url="http://testserver")
        import_layout(ctx, settings)
        app = create_app(settings, db=db, clock=clock)
        app.config["TESTING"] = True
        api = ApiClient(app.test_client(), make_tokens(ctx))
        api.ctx, api.spooler = ctx, app.extensions["civicqueue_spooler"]
        yield app, api, clock
        db.dispose()


def send(api: ApiClient, row: Row, role: str, values: dict):
    headers = {"Authorization": f"Bearer {api.tokens[role]}"} if as_role(role) else {}
    return api.client.open(row.path.format(**values), method=row.method, headers=headers,
                           json=row.json(values, role))


def ticket_state(api, values: dict) -> dict | None:
    return api.get(f"/status/{values['token']}").get_json() if "token" in values else None


@pytest.mark.parametrize(("row", "role"), CASES)
def test_role_matrix(shared, row: Row, role: str):
    _app, api, clock = shared
    clock.advance(days=1)
    values = row.setup(api)
    seq_before, ticket_before = office_seqs(api), ticket_state(api, values)
    state_before = row.state(api, values) if row.state else None

    resp = send(api, row, role, values)
    api.spooler.wait_idle()  # a permitted print request goes on in the background; its events count too

    expected = expectations(row.expect)[role]
    seq_after, ticket_after = office_seqs(api), ticket_state(api, values)
    state_after = row.state(api, values) if row.state else None
    if expected == "ok":
        assert resp.status_code == row.ok, f"{row.name} as {role}: {resp.status_code} {body_text(resp)}"
        assert resp.mimetype == row.mimetype, resp.content_type
        if row.writes and row.state:
            assert state_after != state_before, f"{row.name} as {role} changed nothing"
        elif row.writes:
            office = row.office(role) if callable(row.office) else row.office
            assert seq_after[office] > seq_before.get(office, 0), f"{row.name} as {role} changed nothing"
        else:
            assert seq_after == seq_before and ticket_after == ticket_before and state_after == state_before
    else:
        status, code = DENIED[expected]
        assert_error(resp, status, code)
        assert seq_after == seq_before, f"refused {row.name} as {role} still changed state"
        assert ticket_after == ticket_before and state_after == state_before
    if row.teardown:
        row.teardown(api, values)


def test_an_allowed_ticket_action_really_changes_the_ticket(shared):
    """Guards the matrix's 'ok' cells for ticket actions: the clerk's start moves the ticket to serving."""
    _app, api, clock = shared
    clock.advance(days=1)
    values = called_ticket(api)
    assert send(api, MATRIX[[r.name for r in MATRIX].index("ticket start")], "clerk", values).status_code == 200
    assert ticket_state(api, values)["state"] == "serving"


def test_an_office_bound_token_lists_only_its_own_office(api):
    assert [o["slug"] for o in api.get("/offices", "clerk_nord").get_json()] == ["nord"]
    assert [o["slug"] for o in api.get("/offices", "kiosk").get_json()] == ["mitte"]
    assert sorted(o["slug"] for o in api.get("/offices", "agent").get_json()) == ["mitte", "nord"]


def test_a_public_endpoint_ignores_a_bad_token(api):
    resp = api.get("/wait-times", headers={"Authorization": "Bearer not-a-token"})
    assert resp.status_code == 200
    assert {o["office"] for o in resp.get_json()} == {"mitte", "nord"}


# --- the matrix must cover every route -----------------------------------------------------------------------
def _concrete(path: str) -> str:
    return path.format(ticket=1, token="abc", job=1, device="geraet", user=1)


def _matrix_rules(app) -> set[tuple[str, str]]:
    adapter = app.url_map.bind("localhost")
    covered = set()
    for row in MATRIX:
        rule, _args = adapter.match(_concrete(row.path), method=row.method, return_rule=True)
        covered.add((rule.rule, row.method))
    return covered


def _api_rules(app) -> set[tuple[str, str]]:
    return {(rule.rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_api_route_is_in_the_matrix(app):
    missing = _api_rules(app) - _matrix_rules(app)
    assert not missing, f"add these routes to MATRIX in {__name__}: {sorted(missing)}"


def test_every_counter_verb_is_in_the_matrix(app):
    paths = {(row.method, row.path) for row in MATRIX}
    assert any("<any(" in rule.rule for rule in app.url_map.iter_rules()), "expected the open|pause|close rule"
    for rule in app.url_map.iter_rules():
        for choices in re.findall(r"<any\(([^)]*)\):\w+>", rule.rule):
            for verb in (c.strip() for c in choices.split(",")):
                concrete = re.sub(r"<any\([^)]*\):\w+>", verb, rule.rule, count=1)
                concrete = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: {"office": "mitte", "counter": "schalter-1"}
                                  .get(m.group(1), m.group(0)), concrete)
                methods = rule.methods - {"HEAD", "OPTIONS"}
                assert any((m, concrete) in paths for m in methods), f"no matrix row for {concrete}"


def test_every_ticket_action_is_in_the_matrix():
    actions = {row.path.rsplit("/", 1)[1] for row in MATRIX if row.path.startswith(f"{V1}/tickets/")}
    actions -= {"reprint", "ticket.png"}  # ticket routes that are not state transitions
    assert actions == {a.value for a in Action} - {"call"}

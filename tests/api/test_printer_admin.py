"""A kiosk's printer set by an admin over the API: every backend, clear errors per field, no file writes outside
a printer device over the web, office scope, and a connected printer agent gets the new settings at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.db.models import AuditEntry, Device, Event
from server.realtime import socketio
from server.services.printing import set_printer

from .helpers import assert_error, body_text, office_seqs

KIOSK = "t-kiosk"  # the device the kiosk token of the fixtures stands for
PATH = f"/offices/mitte/devices/{KIOSK}/printer"
DEFAULTS = {"host": None, "port": 9100, "path": None, "vendor": None, "product": None, "profile": None, "paper": 80,
            "timeout": 5.0, "status": True}


def put(api, body, path: str = PATH, caller: str = "admin"):
    return api.request("PUT", path, caller, json=body)


def stored(ctx, name: str = KIOSK) -> dict | None:
    with ctx.db.read_session() as session:
        return session.scalars(select(Device.printer).where(Device.name == name)).one()


@pytest.mark.parametrize(("body", "given"), [
    ({"backend": "network", "host": "192.168.1.50"}, {"host": "192.168.1.50"}),
    ({"backend": "network", "host": "drucker-1.buergeramt.example", "port": 9101, "profile": "TM-T20II", "paper": 58,
      "timeout": 2.5, "status": False},
     {"host": "drucker-1.buergeramt.example", "port": 9101, "profile": "TM-T20II", "paper": 58, "timeout": 2.5,
      "status": False}),
    ({"backend": "usb"}, {}),
    ({"backend": "usb", "vendor": "0x04b8", "product": "0E28", "profile": "TM-T88V"},
     {"vendor": 0x04B8, "product": 0x0E28, "profile": "TM-T88V"}),
    ({"backend": "usb", "vendor": 1208, "product": 514}, {"vendor": 1208, "product": 514}),
    ({"backend": "file", "path": "/dev/usb/lp0"}, {"path": "/dev/usb/lp0"}),
    ({"backend": "file", "path": "/dev/lp12", "paper": 58}, {"path": "/dev/lp12", "paper": 58}),
    ({"backend": "network", "host": " 10.0.0.7 ", "profile": "", "vendor": ""}, {"host": "10.0.0.7"}),
])
def test_an_admin_sets_each_kind_of_printer(api, sqlite_ctx, body, given):
    before = office_seqs(api)["mitte"]
    resp = put(api, body)
    assert resp.status_code == 200, body_text(resp)
    expected = DEFAULTS | {"backend": body["backend"]} | given
    device = resp.get_json()
    assert (device["name"], device["kind"]) == (KIOSK, "kiosk")
    assert device["printer"] | {"checked_at": None} == {"backend": body["backend"], "status": "unknown", "detail": None,
                                                         "checked_at": None, "last_job": None, "settings": expected}
    assert stored(sqlite_ctx) == expected
    listed = {d["name"]: d for d in api.get("/offices/mitte/devices", "supervisor").get_json()}
    assert listed[KIOSK] == device
    assert office_seqs(api)["mitte"] == before + 1  # an event: counters and kiosks see the printer at once


def test_no_printer_takes_it_off(api, sqlite_ctx):
    assert put(api, {"backend": "network", "host": "10.0.0.7"}).status_code == 200
    resp = put(api, {"backend": "none"})
    assert resp.status_code == 200 and resp.get_json()["printer"] is None, body_text(resp)
    assert stored(sqlite_ctx)["backend"] == "none"


def test_the_change_is_an_event_and_an_audit_entry(api, sqlite_ctx):
    assert put(api, {"backend": "network", "host": "10.0.0.7"}).status_code == 200
    with sqlite_ctx.db.read_session() as session:
        event = session.scalars(select(Event).order_by(Event.id.desc()).limit(1)).one()
        entry = session.scalars(select(AuditEntry)).one()
    assert (event.kind, event.details) == ("printer_set", {"device": KIOSK, "backend": "network"})
    assert (entry.action, entry.target, entry.details) == ("printer.set", f"mitte/{KIOSK}",
                                                           {"status": 200, "backend": "network"})


@pytest.mark.parametrize(("body", "words"), [
    ({"backend": "network"}, "host: a network printer needs host"),
    ({"backend": "network", "host": ""}, "host: a network printer needs host"),
    ({"backend": "network", "host": "10.0.0.7; rm -rf /"}, "host: the printer's IP address or host name"),
    ({"backend": "network", "host": "10.0.0.7", "port": 0}, "port:"),
    ({"backend": "network", "host": "10.0.0.7", "port": 65536}, "port:"),
    ({"backend": "network", "host": "10.0.0.7", "paper": 60}, "paper:"),
    ({"backend": "network", "host": "10.0.0.7", "timeout": 0}, "timeout:"),
    ({"backend": "network", "host": "10.0.0.7", "timeout": 61}, "timeout:"),
    ({"backend": "network", "host": "10.0.0.7", "profile": "Drucker-3000"}, "profile: unknown printer profile "
                                                                             "'Drucker-3000'"),
    ({"backend": "usb", "vendor": "0xZZ"}, "vendor: a USB id is 4 hex digits"),
    ({"backend": "usb", "vendor": "0x104b8"}, "vendor: a USB id is 4 hex digits"),
    ({"backend": "usb", "product": 70000}, "product:"),
    ({"backend": "usb", "vendor": -1}, "vendor:"),
    ({"backend": "file"}, "path: a file printer needs path"),
    ({"backend": "serial"}, "backend:"),
    ({"host": "10.0.0.7", "colour": "red"}, "colour: Extra inputs"),
    ({"backend": None}, "backend:"),
])
def test_bad_printer_fields_are_named_and_change_nothing(api, sqlite_ctx, body, words):
    before, seq = stored(sqlite_ctx), office_seqs(api)
    error = assert_error(put(api, body), 422, "invalid_field")
    assert error["message"].startswith(words), error
    assert stored(sqlite_ctx) == before and office_seqs(api) == seq


@pytest.mark.parametrize("path", ["/etc/passwd", "/tmp/tickets.bin", "/dev/sda", "/dev/usb/lp0/../../../etc/passwd",
                                  "/dev/usb/lp123", "/dev/lp", "dev/usb/lp0", "/dev/usb/lp0 x", "/dev/ttyUSB0"])
def test_over_the_web_a_file_printer_must_be_a_printer_device(api, sqlite_ctx, path):
    seq = office_seqs(api)
    for backend in ("file", "usb"):
        error = assert_error(put(api, {"backend": backend, "path": path}), 422, "invalid_field")
        assert error["message"].startswith("path: over the web a printer file can only be a printer device")
        assert "CLI" in error["message"]
    assert stored(sqlite_ctx) is None and office_seqs(api) == seq


def test_the_cli_may_still_name_any_file(api, sqlite_ctx, tmp_path):
    set_printer(sqlite_ctx, "mitte", KIOSK, {"backend": "file", "path": str(tmp_path / "tickets.bin")})
    assert stored(sqlite_ctx)["path"] == str(tmp_path / "tickets.bin")


def test_unknown_devices_and_offices_are_404(api):
    assert_error(put(api, {"backend": "none"}, "/offices/mitte/devices/kiosk-99/printer"), 404, "device_not_found")
    assert_error(put(api, {"backend": "none"}, "/offices/sued/devices/t-kiosk/printer"), 404, "office_not_found")
    assert_error(put(api, {"backend": "none"}, "/offices/nord/devices/t-kiosk/printer"), 404, "device_not_found")


def test_a_display_has_no_ticket_printer(api, sqlite_ctx):
    seq = office_seqs(api)
    resp = put(api, {"backend": "network", "host": "10.0.0.7"}, "/offices/mitte/devices/t-display/printer")
    error = assert_error(resp, 422, "not_a_kiosk")
    assert "only a kiosk has a ticket printer" in error["message"]
    assert stored(sqlite_ctx, "t-display") is None and office_seqs(api) == seq


def test_only_admins_of_the_office_set_printers(api, sqlite_ctx):
    seq = office_seqs(api)
    body = {"backend": "network", "host": "10.0.0.7"}
    assert_error(put(api, body, caller="supervisor"), 403, "wrong_role")
    assert_error(put(api, body, caller="kiosk"), 403, "wrong_role")
    assert_error(api.request("PUT", PATH, json=body), 401, "unauthorized")
    assert_error(put(api, body, "/offices/nord/devices/t-kiosk-nord/printer", caller="admin_mitte"), 403,
                 "wrong_office")
    assert stored(sqlite_ctx) is None and stored(sqlite_ctx, "t-kiosk-nord") is None and office_seqs(api) == seq
    assert put(api, body, caller="admin_mitte").status_code == 200


def test_a_connected_printer_agent_gets_the_new_settings_at_once(app, api, tokens):
    app.extensions["civicqueue_publisher"].flush()
    agent = socketio.test_client(app, namespace="/kiosk", auth={"token": tokens["kiosk"], "agent": "test/1"})
    assert agent.is_connected("/kiosk")
    [(name, first)] = [(m["name"], m["args"][0]) for m in agent.get_received("/kiosk")]
    assert name == "agent_config" and first["printer"] == {}
    assert put(api, {"backend": "usb", "vendor": "04b8", "product": "0e28"}).status_code == 200
    configs = [m["args"][0] for m in agent.get_received("/kiosk") if m["name"] == "agent_config"]
    assert configs == [{"device": KIOSK, "office": "mitte",
                        "printer": DEFAULTS | {"backend": "usb", "vendor": 0x04B8, "product": 0x0E28}}]
    agent.disconnect("/kiosk")

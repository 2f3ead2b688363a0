"""The admin pages in Chromium: devices (add, pairing code with QR, revoke), the audit log, access and a11y."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_PASSWORD, CLERK_PASSWORD, axe_violations, describe, screenshot, sign_in

pytestmark = pytest.mark.slow
DEVICES = "/admin/mitte/devices"
AUDIT = "/admin/mitte/audit"
TIMEOUT = 5000






def devices_ready(page) -> None:
    expect(page.locator("#devices")).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)


def add_device(page, name: str, kind: str = "kiosk") -> None:
    page.fill("#device-name", name)
    page.select_option("#device-kind", kind)
    page.get_by_role("button", name=re.compile("Gerät hinzufügen|Add device")).click()


def test_signed_out_visitors_are_sent_to_the_login(context, live_server):
    page = context.new_page()
    page.goto(live_server.url + "/admin/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fadmin%2F|/login\?next=/admin/"))


def test_a_clerk_gets_403_on_the_admin_pages(context, live_server):
    page = context.new_page()
    sign_in(page, live_server.url, "/admin/", "erika", CLERK_PASSWORD)
    response = page.goto(live_server.url + "/admin/")
    assert response.status == 403
    assert page.goto(live_server.url + DEVICES).status == 403


def test_an_admin_adds_a_device_sees_its_pairing_code_and_qr_then_revokes_it(context, admin):
    page = context.new_page()
    sign_in(page, admin.url, "/admin/")
    expect(page).to_have_url(re.compile(r"/admin/mitte/dashboard$"))  # one office: straight to its dashboard
    page.goto(admin.url + DEVICES)
    devices_ready(page)
    add_device(page, "Kiosk Foyer")
    expect(page.locator("#pairing")).to_be_visible(timeout=TIMEOUT)
    code = page.locator("#pairing-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9-]{6,}", code), code
    expect(page.locator("#pairing-url")).to_have_attribute("href", re.compile(re.escape(code) + "$"))
    qr = page.locator("#pairing-qr")
    expect(qr).to_have_attribute("src", re.compile(r"/qr\.svg$"))
    assert qr.get_attribute("alt")
    page.wait_for_function("() => document.getElementById('pairing-qr').naturalWidth > 0", timeout=TIMEOUT)
    row = page.locator("#device-rows tr", has_text="Kiosk Foyer")
    expect(row).to_have_count(1, timeout=TIMEOUT)
    screenshot(page, "admin-devices-added")
    row.get_by_role("button", name=re.compile("Neuer Kopplungscode|New pairing code")).click()
    expect(page.locator("#pairing-code")).not_to_have_text(code, timeout=TIMEOUT)

    row.get_by_role("button", name=re.compile("Widerrufen|Revoke")).focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#revoke-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Kiosk Foyer")
    screenshot(page, "admin-devices-revoke-dialog")
    page.keyboard.press("Escape")  # cancel first: nothing happens
    expect(dialog).to_be_hidden()
    assert admin.api("GET", "/offices/mitte/devices").status_code == 200
    row.get_by_role("button", name=re.compile("Widerrufen|Revoke")).click()
    dialog.locator("button[value=revoke]").click()
    expect(page.locator("#status")).to_contain_text("Kiosk Foyer", timeout=TIMEOUT)
    audit = admin.api("GET", "/audit?action=device.").json()["entries"]
    assert any(e["action"].startswith("device.revoke") for e in audit), [e["action"] for e in audit]


def test_api_errors_are_shown_next_to_the_form(context, admin):
    page = context.new_page()
    sign_in(page, admin.url, DEVICES)
    devices_ready(page)
    add_device(page, "a/b")
    expect(page.locator("#form-error")).to_contain_text("name must be", timeout=TIMEOUT)
    screenshot(page, "admin-devices-error")


def test_the_audit_page_lists_device_actions_and_filters_by_action(context, admin):
    assert admin.api("POST", "/offices/mitte/devices", json={"name": "Anzeige 2", "kind": "display"}).status_code == 201
    assert admin.api("POST", "/offices/mitte/devices/Anzeige 2/revoke").status_code == 200
    page = context.new_page()
    sign_in(page, admin.url, AUDIT)
    rows = page.locator("#audit tbody tr")
    expect(rows.first).to_be_visible()
    page.fill("#f-action", "device.")
    page.get_by_role("button", name=re.compile("^(Anzeigen|Show)$")).click()
    expect(page).to_have_url(re.compile(r"action=device\."))
    actions = page.locator("#audit tbody td.code").all_inner_texts()
    assert actions and all(a.startswith("device.") for a in actions), actions
    assert {"device.create", "device.revoke"} <= set(actions), actions
    expect(page.locator("#audit tbody tr", has_text="device.revoke")).to_contain_text("mitte/Anzeige 2")
    screenshot(page, "admin-audit-filtered")

    with page.expect_download() as download:
        page.locator("#download-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("at,actor,role,office,action") and "device." in text


def test_the_audit_page_says_why_a_filter_is_wrong(context, admin):
    page = context.new_page()
    sign_in(page, admin.url, AUDIT + "?action=DROP%20TABLE")
    expect(page.locator(".alert")).to_be_visible()


def test_admin_pages_have_no_serious_accessibility_violations(browser, admin):
    def signed_in(page):
        sign_in(page, admin.url, DEVICES)
        devices_ready(page)

    def signed_in_audit(page):
        sign_in(page, admin.url, AUDIT)

    admin.api("POST", "/offices/mitte/devices", json={"name": "Kiosk Foyer", "kind": "kiosk"})
    for url, prepare in ((admin.url + "/login", signed_in), (admin.url + "/login", signed_in_audit)):
        violations = axe_violations(browser, url, prepare=prepare)
        assert not violations, describe(violations)


def test_a_supervisor_stops_and_resumes_ticket_issue_from_the_admin_page(context, browser, live_server):
    live_server.proc.cli("user", "add", "sina", "--role", "supervisor", "--office", "mitte",
                         stdin=ADMIN_PASSWORD + "\n")
    page = context.new_page()
    sign_in(page, live_server.url, "/admin/mitte/issuing", name="sina")
    row = page.locator("tr", has=page.locator("th#issuing-ausweis"))
    row.get_by_role("button", name=re.compile("Wartemarken stoppen|Stop ticket issue")).click()
    expect(page.get_by_role("status")).to_contain_text(re.compile("keine Wartemarken|no more tickets", re.I))
    expect(row.locator("td").first).to_have_text(re.compile("Heute keine Wartemarken mehr|No more tickets today"))
    screenshot(page, "admin-issuing-stopped")
    services = {s["slug"]: s for s in live_server.api("GET", "/offices/mitte/services").json()}
    assert services["ausweis"]["closed_reason"] == "service_closed"
    assert services["meldewesen"]["closed_reason"] is None

    row.get_by_role("button", name=re.compile("Wartemarken wieder ausgeben|Resume ticket issue")).click()
    expect(row.locator("td").first).to_have_text(re.compile("Wartemarken werden ausgegeben|Tickets are issued"))
    services = {s["slug"]: s for s in live_server.api("GET", "/offices/mitte/services").json()}
    assert services["ausweis"]["closed_reason"] is None
    audit = live_server.api("GET", "/audit?action=service.issuing").json()["entries"]
    assert [e["details"]["open"] for e in audit] == [True, False]

    violations = axe_violations(browser, live_server.url + "/login",
                                prepare=lambda p: sign_in(p, live_server.url, "/admin/mitte/issuing", name="sina"))
    assert not violations, describe(violations)

"""The users page and the kiosk printer dialog in Chromium: add, change and reset users with messages at their
fields; set a kiosk's printer; only admins get either; no serious accessibility violations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_PASSWORD, CLERK_PASSWORD, axe_violations, describe, screenshot, sign_in

pytestmark = pytest.mark.slow
USERS = "/admin/mitte/users"
DEVICES = "/admin/mitte/devices"
KIOSK = "kiosk-eingang"  # the demo office's kiosk
TIMEOUT = 5000






def users_ready(page) -> None:
    expect(page.locator("#users")).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)


def user_named(live_server, name: str) -> dict | None:
    return next((u for u in live_server.api("GET", "/users").json() if u["name"] == name), None)


def add_user(page, name: str, password: str, repeat: str | None = None, role: str = "supervisor") -> None:
    page.fill("#new-name", name)
    page.select_option("#new-role", role)
    page.fill("#new-password", password)
    page.fill("#new-repeat", password if repeat is None else repeat)
    page.locator("#add-form button[type=submit]").click()


def test_an_admin_adds_a_user_and_sees_messages_at_the_fields(context, admin):
    page = context.new_page()
    sign_in(page, admin.url, USERS)
    users_ready(page)
    expect(page.locator("#user-rows tr", has_text="erika")).to_contain_text("Bürgerbüro Mitte")
    expect(page.locator("#new-offices input[value=mitte]")).to_be_checked()  # the page's office

    add_user(page, "Berta Beispiel", "kurz")
    error = page.locator("#new-password-error")
    expect(error).to_contain_text("10", timeout=TIMEOUT)
    expect(page.locator("#new-password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#new-password")).to_be_focused()
    assert "new-password-error" in page.locator("#new-password").get_attribute("aria-describedby")
    expect(page.locator("#add-form .form-alert")).not_to_be_empty()
    screenshot(page, "admin-users-short-password")
    assert user_named(admin, "Berta Beispiel") is None

    add_user(page, "Berta Beispiel", "lang-genug-123", "lang-genug-124")
    expect(page.locator("#new-repeat-error")).to_be_visible()
    expect(page.locator("#new-password-error")).to_have_count(0)
    assert user_named(admin, "Berta Beispiel") is None

    add_user(page, "Berta Beispiel", "lang-genug-123")
    expect(page.locator("#status")).to_contain_text("Berta Beispiel", timeout=TIMEOUT)
    row = page.locator("#user-rows tr", has_text="Berta Beispiel")
    expect(row).to_contain_text("Bürgerbüro Mitte")
    berta = user_named(admin, "Berta Beispiel")
    assert (berta["role"], berta["offices"], berta["active"]) == ("supervisor", ["mitte"], True)
    screenshot(page, "admin-users-added")

    add_user(page, "Berta Beispiel", "lang-genug-123")
    expect(page.locator("#new-name-error")).to_be_visible(timeout=TIMEOUT)  # the name is taken


def test_an_admin_deactivates_a_user_and_sets_a_password(context, admin):
    page = context.new_page()
    sign_in(page, admin.url, USERS)
    users_ready(page)
    row = page.locator("#user-rows tr", has_text="erika")
    row.get_by_role("button", name=re.compile("(Edit|Bearbeiten).*erika")).click()
    dialog = page.locator("#edit-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#edit-role")).to_have_value("clerk")
    expect(page.locator("#edit-active")).to_be_checked()
    page.locator("#edit-offices input[value=mitte]").uncheck()
    dialog.locator("button[type=submit]").click()
    expect(page.locator("#edit-offices-error")).to_be_visible(timeout=TIMEOUT)  # a clerk needs an office
    screenshot(page, "admin-users-edit-dialog")
    page.locator("#edit-offices input[value=mitte]").check()
    page.locator("#edit-active").uncheck()
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_be_hidden(timeout=TIMEOUT)
    expect(page.locator("#status")).to_contain_text("erika")
    assert user_named(admin, "erika")["active"] is False

    page.locator("#user-rows tr", has_text="erika").locator('button[data-action="password"]').click()
    dialog = page.locator("#password-dialog")
    expect(page.locator("#reset-password")).to_be_focused()
    page.fill("#reset-password", "zu-kurz")
    page.fill("#reset-repeat", "zu-kurz")
    page.keyboard.press("Enter")
    expect(page.locator("#reset-password-error")).to_contain_text("10", timeout=TIMEOUT)
    screenshot(page, "admin-users-password-dialog")
    page.fill("#reset-password", "ein-neues-passwort")
    page.fill("#reset-repeat", "ein-neues-passwort")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden(timeout=TIMEOUT)
    expect(page.locator("#user-rows tr", has_text="erika").locator('button[data-action="password"]')).to_be_focused()
    audit = [e["action"] for e in admin.api("GET", "/audit?action=user.").json()["entries"]]
    assert audit == ["user.password", "user.password", "user.update", "user.update"], audit


def test_ones_own_row_links_to_the_password_page_instead(context, admin):
    page = context.new_page()
    sign_in(page, admin.url, USERS)
    users_ready(page)
    me = page.locator("#user-rows tr", has_text="ada")
    expect(me.locator('button[data-action="password"]')).to_be_hidden()
    expect(me.locator("a.own-password")).to_have_attribute("href", "/account/password")


def test_only_admins_get_the_users_page_and_its_link(context, live_server):
    live_server.proc.cli("user", "add", "sina", "--role", "supervisor", "--office", "mitte",
                         stdin=ADMIN_PASSWORD + "\n")
    page = context.new_page()
    sign_in(page, live_server.url, DEVICES, name="sina")
    expect(page.locator("#devices")).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)
    expect(page.locator("nav.sections a[href$='/users']")).to_have_count(0)
    expect(page.locator('button[data-action="printer"]')).to_have_count(0)  # read-only: no printer dialog
    assert page.goto(live_server.url + USERS).status == 403

    clerk = context.new_page()
    sign_in(clerk, live_server.url, "/login", name="erika", password=CLERK_PASSWORD)
    assert clerk.goto(live_server.url + USERS).status == 403


def test_an_admin_sets_a_kiosks_printer_in_the_dialog(context, admin):
    page = context.new_page()
    sign_in(page, admin.url, DEVICES)
    expect(page.locator("#devices")).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)
    expect(page.locator("nav.sections a[href$='/users']")).to_have_count(1)
    row = page.locator("#device-rows tr", has_text=KIOSK)
    displays = page.locator("#device-rows tr", has_not_text=KIOSK)
    expect(displays.locator('button[data-action="printer"]')).to_have_count(0)

    row.locator('button[data-action="printer"]').click()
    dialog = page.locator("#printer-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#printer-backend")).to_be_focused()
    page.select_option("#printer-backend", "file")
    expect(page.locator("#printer-path")).to_be_visible()
    expect(page.locator("#printer-host")).to_be_hidden()
    page.fill("#printer-path", "/etc/passwd")
    dialog.locator("button[type=submit]").click()
    expect(page.locator("#printer-path-error")).to_contain_text("/dev/usb/lp0", timeout=TIMEOUT)
    expect(page.locator("#printer-path")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "admin-printer-dialog-path-refused")

    page.select_option("#printer-backend", "network")
    expect(page.locator("#printer-path")).to_be_hidden()
    page.fill("#printer-host", "127.0.0.1")
    page.fill("#printer-port", "9")
    page.select_option("#printer-paper", "58")
    page.fill("#printer-profile", "TM-T88V")
    screenshot(page, "admin-printer-dialog-network")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_be_hidden(timeout=TIMEOUT)
    expect(row).to_contain_text("127.0.0.1:9")
    expect(page.locator("#status")).to_contain_text(KIOSK)
    settings = next(d for d in admin.api("GET", "/offices/mitte/devices").json() if d["name"] == KIOSK)
    assert {k: settings["printer"]["settings"][k] for k in ("backend", "host", "port", "paper", "profile")} == {
        "backend": "network", "host": "127.0.0.1", "port": 9, "paper": 58, "profile": "TM-T88V"}
    screenshot(page, "admin-devices-printer-set")

    row.locator('button[data-action="printer"]').click()  # opens with what is set
    expect(page.locator("#printer-host")).to_have_value("127.0.0.1")
    page.select_option("#printer-backend", "usb")
    page.fill("#printer-vendor", "04b8")
    page.fill("#printer-product", "0e28")
    screenshot(page, "admin-printer-dialog-usb")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden(timeout=TIMEOUT)
    expect(row).to_contain_text("04b8:0e28")


def test_the_users_page_and_printer_dialog_have_no_serious_accessibility_violations(browser, admin):
    def users_page(page):
        sign_in(page, admin.url, USERS)
        users_ready(page)

    def edit_dialog(page):
        users_page(page)
        page.locator("#user-rows tr", has_text="erika").locator('button[data-action="edit"]').click()

    def printer_dialog(page):
        sign_in(page, admin.url, DEVICES)
        page.locator("#device-rows tr", has_text=KIOSK).locator('button[data-action="printer"]').click()
        page.select_option("#printer-backend", "network")

    for prepare in (users_page, edit_dialog, printer_dialog):
        violations = axe_violations(browser, admin.url + "/login", prepare=prepare)
        assert not violations, describe(violations)

"""Pairing in Chromium: the pairing link asks once, then opens the display page, live; a revoke sends it to
"not paired"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow


def test_the_pairing_link_opens_the_live_display_and_a_revoke_unpairs_it(live_server, context):
    made = live_server.api("POST", "/offices/mitte/devices", json={"name": "anzeige-neu", "kind": "display"})
    assert made.status_code == 201, made.text
    page = context.new_page()
    page.goto(made.json()["pairing"]["url"])
    expect(page.locator("#pair-help")).to_contain_text("„anzeige-neu“")  # what it becomes, asked first
    page.get_by_role("button", name="Dieses Gerät koppeln").click()
    expect(page).to_have_url(f"{live_server.url}/display/mitte")
    expect(page.locator("html")).to_have_attribute("data-connection", "online", timeout=10_000)

    revoked = live_server.api("POST", "/offices/mitte/devices/anzeige-neu/revoke")
    assert revoked.status_code == 200, revoked.text
    expect(page.locator("h1")).to_have_text("Diese Anzeige ist noch nicht gekoppelt", timeout=5_000)

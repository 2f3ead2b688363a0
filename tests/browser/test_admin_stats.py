"""The statistics page in Chromium: it renders today's numbers, the filters change the table, the downloads work,
the charts carry their values, and axe finds nothing serious."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_PASSWORD, axe_violations, describe, screenshot, sign_in

pytestmark = pytest.mark.slow
STATS = "/admin/mitte/stats"
SHOTS = Path("/tmp/shots")


@pytest.fixture
def supervisor(live_server):
    """A supervisor "sina" of mitte, and a few tickets today: three drawn, one served."""
    live_server.proc.cli("user", "add", "sina", "--role", "supervisor", "--office", "mitte",
                         stdin=ADMIN_PASSWORD + "\n")
    first = live_server.issue()
    live_server.issue()
    live_server.issue("meldewesen")
    assert live_server.call_next()["id"] == first["id"]
    for action in ("start", "finish"):
        assert live_server.api("POST", f"/tickets/{first['id']}/{action}", "CLERK").status_code == 200
    return live_server


def keep(path: Path, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(path, SHOTS / name)


def test_a_supervisor_sees_todays_statistics_and_changes_the_breakdown(context, supervisor):
    page = context.new_page()
    sign_in(page, supervisor.url, STATS, name="sina")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Statistik|Statistics"))
    expect(page.locator("nav.sections a[aria-current=page]")).to_have_text(re.compile("Statistik|Statistics"))
    total = page.locator("#stats-table tr.total")
    expect(total.locator("td").nth(0)).to_have_text("3")  # issued
    expect(total.locator("td").nth(1)).to_have_text("1")  # served
    assert page.locator("#chart-wait-hour text.value").count() >= 1
    expect(page.locator("#chart-served-day")).to_have_attribute("role", "img")
    keep(screenshot(page, "admin-stats-service"), "admin-stats-service.png")

    page.select_option("#f-by", "counter")
    page.get_by_role("button", name=re.compile("Anzeigen|Show")).click()
    expect(page).to_have_url(re.compile(r"by=counter"))
    expect(page.locator("#stats-table tbody th[scope=row]").first).to_contain_text("Schalter 1")
    keep(screenshot(page, "admin-stats-counter"), "admin-stats-counter.png")

    xlsx = page.locator("#download-xlsx").get_attribute("href")
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    resp = requests.get(supervisor.url + xlsx, cookies=cookies, timeout=10)
    assert resp.status_code == 200, resp.text
    rows = list(load_workbook(io.BytesIO(resp.content))["counter"].iter_rows(values_only=True))
    assert rows[-1][:3] == ("total", 3, 1)


def test_a_bad_date_is_marked_at_its_field(context, supervisor):
    page = context.new_page()
    sign_in(page, supervisor.url, STATS + "?from=2026-13-01", name="sina")
    field = page.locator("#f-from")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert "f-from-error" in field.get_attribute("aria-describedby")
    expect(page.locator("#f-from-error")).to_be_visible()
    keep(screenshot(page, "admin-stats-error"), "admin-stats-error.png")


def test_a_clerk_may_not_open_the_statistics(context, live_server):
    from tests.browser.conftest import CLERK_PASSWORD

    page = context.new_page()
    sign_in(page, live_server.url, "/admin/", "erika", CLERK_PASSWORD)
    assert page.goto(live_server.url + STATS).status == 403


def test_the_statistics_page_passes_axe(browser, supervisor):
    for by in ("service", "day"):
        violations = axe_violations(browser, supervisor.url + "/login", prepare=lambda p, by=by: sign_in(
            p, supervisor.url, f"{STATS}?by={by}", name="sina"))
        assert not violations, describe(violations)

"""A display runs for days: many calls must not grow its JavaScript heap, DOM or listeners."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_display import LATEST

pytestmark = pytest.mark.slow

SERVICES = ["ausweis", "meldewesen", "abholung", "beglaubigung"]
COUNTERS = ["schalter-1", "schalter-2", "schalter-3", "schalter-4"]


def _measure(cdp) -> dict:
    cdp.send("HeapProfiler.collectGarbage")
    heap = cdp.send("Runtime.getHeapUsage")
    dom = cdp.send("Memory.getDOMCounters")
    return {"heap": heap["usedSize"], "nodes": dom["nodes"], "listeners": dom["jsEventListeners"]}


def _calls(live_server, n: int) -> str:
    code = ""
    for i in range(n):
        live_server.issue(SERVICES[i % 4])
        ticket = live_server.call_next(COUNTERS[i % 4])
        code = ticket["code"] if ticket else code
    return code


def test_hundreds_of_calls_do_not_grow_the_display(context, live_server):
    page = context.new_page()  # no test instrumentation: it would grow the heap itself
    page.goto(f"{live_server.url}/display/mitte?token={live_server.tokens['DISPLAY']}")
    expect(page.locator("html")).to_have_attribute("data-connection", "online", timeout=10_000)
    cdp = context.new_cdp_session(page)
    expect(page.locator(LATEST)).to_have_count(0)
    last = _calls(live_server, 30)  # warm up: caches, fonts, the first announcements
    expect(page.locator(LATEST)).to_contain_text(last, timeout=10_000)
    before = _measure(cdp)
    last = _calls(live_server, 300)
    expect(page.locator(LATEST)).to_contain_text(last, timeout=20_000)
    after = _measure(cdp)
    print("display memory before/after 300 calls:", before, after)
    assert after["nodes"] - before["nodes"] < 300, (before, after)
    assert after["listeners"] - before["listeners"] < 20, (before, after)
    assert after["heap"] - before["heap"] < 2 * 1024 * 1024, (before, after)
    expect(page.locator("#calls .call")).to_have_count(6)

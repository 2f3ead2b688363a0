"""Browser tests: a real server process, Debian's Chromium driven by Playwright, screenshots, axe-core.

Under CI=true a missing Chromium is an error, not a skip.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import requests

from server.config import ROOT
from tests.support import databases
from tests.support.server_proc import ServerProcess

CHROMIUM = os.environ.get("QMS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "_artifacts" / "screens"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--autoplay-policy=no-user-gesture-required"]
CLERK_PASSWORD = "counter-secret-1"


def _need(condition: bool, message: str) -> None:
    if not condition:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: browser tests must run)")
        pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    _need(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}; apt-get install chromium")
    _need(AXE.exists(), "node_modules missing; run npm ci")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class LiveServer:
    """A server on SQLite with the demo office, device tokens, a clerk user and an admin API token."""

    def __init__(self, proc: ServerProcess, tokens: dict[str, str]):
        self.proc, self.tokens, self.url = proc, tokens, proc.url

    def api(self, method: str, path: str, token: str = "ADMIN", **kwargs):
        headers = {"Authorization": f"Bearer {self.tokens[token]}"}
        return requests.request(method, f"{self.url}/api/v1{path}", headers=headers, timeout=10, **kwargs)

    def issue(self, service: str = "ausweis", **body) -> dict:
        r = self.api("POST", "/offices/mitte/tickets", "KIOSK", json={"service": service, **body})
        assert r.status_code == 201, r.text
        return r.json()

    def call_next(self, counter: str = "schalter-1") -> dict | None:
        r = self.api("POST", f"/offices/mitte/counters/{counter}/call-next", "CLERK")
        assert r.status_code in (200, 204), r.text
        return r.json() if r.status_code == 200 else None

    def restart(self) -> None:
        self.proc.stop()
        self.proc.start()


@pytest.fixture
def live_server(tmp_path):
    proc = ServerProcess(tmp_path, databases.new_sqlite_url(tmp_path))
    proc.cli("init", "--demo")
    tokens = dict(line.split("=", 1) for line in (tmp_path / "demo-tokens.txt").read_text().split())
    proc.cli("user", "add", "erika", "--role", "clerk", "--office", "mitte", stdin=CLERK_PASSWORD + "\n")
    proc.start()
    yield LiveServer(proc, tokens)
    proc.stop()


ADMIN_PASSWORD = "admin-secret-123"
SIGN_IN_TIMEOUT = 5000


@pytest.fixture
def admin(live_server):
    """A city-wide admin account "ada" made with the CLI, as an operator would."""
    live_server.proc.cli("user", "add", "ada", "--role", "admin", stdin=ADMIN_PASSWORD + "\n")
    return live_server


def sign_in(page, url: str, path: str, name: str = "ada", password: str = ADMIN_PASSWORD) -> None:
    """Open a staff page; when the login form comes instead (not signed in yet in this context), sign in there
    and land on the page."""
    page.goto(url + path)
    if "/login" not in page.url:
        return
    page.fill("#name", name)
    page.fill("#password", password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: "/login" not in u, timeout=SIGN_IN_TIMEOUT)


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="de-DE")
    yield ctx
    ctx.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot under tests/_artifacts/screens (git-ignored) for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(browser, url: str, *, viewport=None, prepare=None, locale="de-DE") -> list[dict]:
    """Serious and critical axe-core violations of a page (a context that bypasses CSP to inject axe)."""
    ctx = browser.new_context(bypass_csp=True, viewport=viewport or {"width": 1920, "height": 1080}, locale=locale)
    try:
        page = ctx.new_page()
        page.goto(url)
        if prepare:
            prepare(page)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        ctx.close()
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in bad]


def describe(violations: list[dict]) -> str:
    return json.dumps(violations, indent=1, ensure_ascii=False)


def clean_artifacts() -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)

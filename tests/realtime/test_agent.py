"""The agent over real Socket.IO: as a process against a live server, in-process against a bare Socket.IO server."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import socketio
from PIL import Image
from werkzeug.serving import make_server

from kiosk.agent import Agent
from server.config import ROOT
from tests.realtime.conftest import demo_server
from tests.support.fake_printer import parse_stream
from tests.support.server_proc import ServerProcess

pytestmark = pytest.mark.slow
KIOSK = "kiosk-eingang"


@pytest.fixture
def server(tmp_path):
    """The demo office; its entrance kiosk prints through its agent ("usb" backend, printer named by the agent)."""
    usb_printer = ("printer", "set", KIOSK, "--office", "mitte", "--backend", "usb", "--timeout", "5")
    with demo_server(tmp_path, usb_printer) as proc:
        yield proc


class AgentProcess:
    """`python -m kiosk.agent` as systemd would run it: token in a file, printing to a device file."""

    def __init__(self, server: ServerProcess, directory: Path, token: str):
        self.printer, self.log = directory / "lp0", directory / "agent.log"
        token_file = directory / "agent-token"
        token_file.write_text(token + "\n")
        token_file.chmod(0o600)
        env = {k: v for k, v in os.environ.items() if not k.startswith("QMS_AGENT_")}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kiosk.agent", "--server", server.url, "--token-file", str(token_file),
                 "--printer", f"file:{self.printer}", "--status-interval", "5"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_log(self, text: str, count: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.log_text().count(text) < count:
            assert self.proc.poll() is None, f"agent exited with {self.proc.returncode}:\n{self.log_text()}"
            assert time.monotonic() < deadline, f"no {count}× {text!r} in the agent's log:\n{self.log_text()}"
            time.sleep(0.05)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        return self.proc.returncode


@pytest.fixture
def agent(server, tmp_path):
    running = AgentProcess(server, tmp_path, server.tokens["KIOSK"])
    yield running
    running.stop()


def api(server: ServerProcess, method: str, path: str, token: str = "CLERK", **body) -> requests.Response:
    return requests.request(method, f"{server.url}/api/v1{path}", json=body or None, timeout=10,
                            headers={"Authorization": f"Bearer {server.tokens[token]}"})


def issue_ticket(server: ServerProcess) -> dict:
    response = api(server, "POST", "/offices/mitte/tickets", "KIOSK", service="meldewesen",
                   request_id=uuid.uuid4().hex)
    assert response.status_code == 201, response.text
    return response.json()


def wait_for_job(server: ServerProcess, job_id: int, timeout: float = 20) -> dict:
    """The job once it has printed or failed (the spooler works in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        view = api(server, "GET", f"/print-jobs/{job_id}").json()
        if view["state"] in ("printed", "failed") or time.monotonic() > deadline:
            return view
        time.sleep(0.05)


def kiosk_device(server: ServerProcess) -> dict:
    return next(d for d in api(server, "GET", "/offices/mitte/devices").json() if d["name"] == KIOSK)


def assert_file_holds_the_job_image(server: ServerProcess, agent: AgentProcess, job_id: int) -> None:
    parsed = parse_stream(agent.printer.read_bytes())
    assert parsed.errors == [] and parsed.pending == b""
    (printed,) = parsed.jobs
    preview = Image.open(io.BytesIO(api(server, "GET", f"/print-jobs/{job_id}/image.png").content))
    assert printed.image.size == preview.size
    assert printed.image.tobytes() == preview.convert("1").tobytes()
    assert printed.cut in ("full", "partial") and printed.inits == 1


def test_the_agent_prints_kiosk_tickets_and_reconnects_after_a_server_restart(server, agent):
    agent.wait_for_log("connected to")
    agent.wait_for_log("printer status ok")
    device = kiosk_device(server)
    assert device["agent"]["connected"] is True and device["agent"]["version"]
    assert device["printer"]["status"] == "ok"

    ticket = issue_ticket(server)
    job = wait_for_job(server, ticket["print"]["id"])
    assert (job["state"], job["error"], job["backend"]) == ("printed", None, "usb")
    assert_file_holds_the_job_image(server, agent, job["id"])
    agent.wait_for_log(f"ticket {ticket['code']}: ")

    server.stop()
    agent.wait_for_log("connection lost")
    server.start()
    agent.wait_for_log("connected to", count=2)
    again = issue_ticket(server)
    job = wait_for_job(server, again["print"]["id"])
    assert job["state"] == "printed", job
    assert_file_holds_the_job_image(server, agent, job["id"])
    assert agent.stop() == 0


def test_without_its_agent_a_kiosk_ticket_stands_and_its_print_fails_agent_offline(server):
    ticket = issue_ticket(server)
    job = wait_for_job(server, ticket["print"]["id"])
    assert job["state"] == "failed" and job["error"]["code"] == "agent_offline"
    queue = api(server, "GET", "/offices/mitte/queue").json()
    assert ticket["code"] in {t["code"] for t in queue["waiting"]}


def test_an_agent_whose_token_is_refused_exits_with_status_3_and_says_why(server, tmp_path):
    refused = AgentProcess(server, tmp_path, server.tokens["DISPLAY"])
    assert refused.proc.wait(30) == 3
    assert "the server refused this agent" in refused.log_text()
    assert "--device kiosk" in refused.log_text()


class SessionEndingServer:
    """A bare python-socketio server speaking the agent protocol, which ends the agent's session (as a server
    that revokes or restarts a session would) instead of acknowledging its first print result."""

    def __init__(self, printer_path: Path):
        self.sio = socketio.Server(async_mode="threading")
        self.connects, self.results, self.printer_path = 0, [], printer_path
        self.sio.on("connect", self.on_connect, namespace="/kiosk")
        self.sio.on("print_result", self.on_result, namespace="/kiosk")
        self.http = make_server("127.0.0.1", 0, socketio.WSGIApp(self.sio), threaded=True)
        self.url = f"http://127.0.0.1:{self.http.server_port}"

    def on_connect(self, sid, environ, auth):
        self.connects += 1
        printer = {"backend": "file", "path": str(self.printer_path), "profile": None, "paper": 80}
        self.sio.emit("agent_config", {"device": KIOSK, "office": "mitte", "printer": printer}, to=sid,
                      namespace="/kiosk")

    def on_result(self, sid, data):
        self.results.append(data)
        if len(self.results) == 1:
            self.sio.disconnect(sid, namespace="/kiosk")
            return None
        return {"ok": True}

    def send_job(self, job_id: int, data: bytes) -> None:
        self.sio.emit("print_job", {"job": job_id, "ticket": "A001", "data": base64.b64encode(data).decode()},
                      namespace="/kiosk")


def test_a_result_the_server_did_not_acknowledge_is_sent_again_after_the_agent_reconnects(tmp_path):
    server = SessionEndingServer(tmp_path / "lp0")
    threading.Thread(target=server.http.serve_forever, daemon=True).start()
    agent = Agent(server.url, "token", reconnect_delay=0.2, reconnect_delay_max=1).start()
    try:
        assert agent.wait_connected(10)
        server.send_job(1, b"\x1b@\x1dV\x00")
        deadline = time.monotonic() + 20
        while len(server.results) < 2 or not agent.connected or agent.outbox.pending:
            assert time.monotonic() < deadline, (server.results, server.connects, agent.outbox.pending)
            time.sleep(0.05)
        assert [r["job"] for r in server.results] == [1, 1] and server.connects == 2
        assert (tmp_path / "lp0").read_bytes() == b"\x1b@\x1dV\x00"
    finally:
        agent.stop()
        server.http.shutdown()

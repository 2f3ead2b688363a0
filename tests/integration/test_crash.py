"""Nothing acknowledged is lost: kill -9 the real server while kiosks issue tickets, then restart it."""

import threading
import time

import pytest
import requests
from sqlalchemy import select

from server.db import Database
from server.db.models import Event, Ticket
from tests.support import databases
from tests.support.server_proc import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield databases.new_sqlite_url(tmp_path)
    else:
        url = databases.new_postgres_url()
        yield url
        databases.drop_postgres(url)


def _kiosk(server: ServerProcess, token: str, acked: list, stop: threading.Event, worker: int):
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    n = 0
    while not stop.is_set():
        n += 1
        try:
            r = http.post(f"{server.url}/api/v1/offices/mitte/tickets", timeout=5,
                          json={"service": "ausweis", "request_id": f"w{worker}-{n}"})
        except requests.RequestException:
            continue  # the server is gone: this request was never acknowledged
        if r.status_code == 201:
            acked.append(r.json())


def test_every_acknowledged_ticket_survives_kill_9(tmp_path, database_url):
    server = ServerProcess(tmp_path, database_url)
    server.cli("init", "--demo")
    token = server.cli("token", "add", "crash-kiosk", "--device", "kiosk", "--office", "mitte").strip()
    server.start()
    acked: list[dict] = []
    stop = threading.Event()
    kiosks = [threading.Thread(target=_kiosk, args=(server, token, acked, stop, i)) for i in range(4)]
    try:
        for k in kiosks:
            k.start()
        deadline = time.monotonic() + 20
        while len(acked) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill9()  # mid-flight: the kiosks are still sending
        stop.set()
        for k in kiosks:
            k.join(10)
        assert len(acked) >= 150, server.log_text()
        server.start()
        assert requests.get(server.url + "/healthz", timeout=5).json()["status"] == "ok"
    finally:
        stop.set()
        server.stop()

    db = Database(database_url)
    with db.read_session() as s:
        stored = {t.id: t for t in s.scalars(select(Ticket))}
        issued_events = {e.ticket_id for e in s.scalars(select(Event).where(Event.kind == "issued"))}
    db.dispose()
    for ticket in acked:
        assert ticket["id"] in stored, f"acknowledged ticket {ticket['code']} is gone"
        assert stored[ticket["id"]].code == ticket["code"]
        assert ticket["id"] in issued_events
    codes = sorted(t.number for t in stored.values())
    assert codes == list(range(1, len(stored) + 1)), "numbers stay unique and gap-free after the crash"

"""Engine.IO's heartbeat on gevent loop timers (server.realtime.pings): same pings, no greenlet per connection.

A probe process serves the app under gevent exactly as `python -m server run` does (server.serve.prepare), with
a 0.4 s ping interval, and talks raw Engine.IO over websocket-client: one client answers every ping, one never
does. Run once with the loop timers and once with engineio's own tasks, which must behave the same.
"""

import json
import subprocess
import sys

import pytest

from server.config import ROOT

PROBE = r"""
from gevent import monkey; monkey.patch_all()
import gc, json, sys, time
import gevent, greenlet, websocket
from gevent import pywsgi
from server.app import create_app
from server.config import load_settings
from server.db import Database
from server.realtime import pings
from server.serve import NoDelayHandler, prepare

app = create_app(load_settings(), db=Database(sys.argv[1]))
eio = app.extensions["socketio"].server.eio
eio.ping_interval, eio.ping_timeout = 0.4, 0.6
wsgi = prepare(app)
if sys.argv[2] == "tasks":
    pings.use_engineio_tasks()
server = pywsgi.WSGIServer(("127.0.0.1", 0), wsgi, handler_class=NoDelayHandler, log=None)
server.start()
url = f"ws://127.0.0.1:{server.server_port}/socket.io/?EIO=4&transport=websocket"

def client(answer):
    ws = websocket.create_connection(url, timeout=5)
    assert ws.recv().startswith("0{")
    pings, started = [], time.monotonic()
    while time.monotonic() - started < 2.5:
        try:
            frame = ws.recv()
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            return {"pings": pings, "closed_after": round(time.monotonic() - started, 2)}
        if frame == "":
            return {"pings": pings, "closed_after": round(time.monotonic() - started, 2)}
        if frame == "2":
            pings.append(round(time.monotonic() - started, 2))
            if answer:
                ws.send("3")
    ws.close()
    return {"pings": pings, "closed_after": None}

def sleeping_ping_tasks():
    gc.collect()
    return sum(1 for g in gc.get_objects() if isinstance(g, greenlet.greenlet)
               and "_send_ping" in repr(getattr(g, "_run", None)))

def connection_greenlets():
    # engineio's greenlets (two per websocket, reader and writer, and its service task): how many, and how many
    # kept the stack that spawned them
    gc.collect()
    found = [g for g in gc.get_objects() if isinstance(g, gevent.Greenlet) and type(g).__name__ == "Thread"
             and not g.dead]
    return {"count": len(found), "with_stack": sum(1 for g in found if g.spawning_stack is not None)}

answering, silent = gevent.spawn(client, True), gevent.spawn(client, False)
gevent.sleep(0.2)
tasks_while_connected = sleeping_ping_tasks()
greenlets_while_connected = connection_greenlets()
gevent.joinall([answering, silent], raise_error=True)
print(json.dumps({"answering": answering.value, "silent": silent.value, "ping_tasks": tasks_while_connected,
                  "greenlets": greenlets_while_connected}))
server.stop()
"""


def run_probe(sqlite_db, tmp_path, mode: str) -> dict:
    env = {"PATH": "/usr/bin:/bin", "QMS_SECRET_KEY": "test-secret", "QMS_INSTANCE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", PROBE, str(sqlite_db.engine.url), mode], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["timers", "tasks"])
def test_pings_keep_answering_clients_and_drop_silent_ones(sqlite_db, tmp_path, mode):
    result = run_probe(sqlite_db, tmp_path, mode)
    answering, silent = result["answering"], result["silent"]
    # The answering client gets a ping every 0.4 s and stays connected for the whole 2.5 s.
    assert answering["closed_after"] is None
    assert len(answering["pings"]) >= 4, answering
    gaps = [b - a for a, b in zip(answering["pings"], answering["pings"][1:], strict=False)]
    assert all(0.3 <= gap <= 1.0 for gap in gaps), gaps
    # The silent client gets one ping, then is dropped once the timeout has passed.
    assert len(silent["pings"]) == 1, silent
    assert silent["closed_after"] is not None and silent["closed_after"] < 2.5, silent
    # With the loop timers no greenlet sleeps per connection; engineio's own way keeps one per client.
    assert result["ping_tasks"] == (0 if mode == "timers" else 2), result
    # Each websocket holds two engineio greenlets (reader and writer); none keeps the stack that spawned it.
    assert result["greenlets"]["count"] >= 4 and result["greenlets"]["with_stack"] == 0, result

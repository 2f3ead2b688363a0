"""server.serve.NoDelayHandler sends a response's head together with its body: one write per small reply.

A probe process serves a small WSGI app on gevent's pywsgi with the handler, counts the writes that reach
pywsgi's own `_sendall`, and reads every response back over a raw socket, so the bytes on the wire are checked
as well as the number of writes.
"""

import json
import subprocess
import sys

import pytest

from server.config import ROOT

PROBE = r"""
from gevent import monkey; monkey.patch_all()
import json, socket
from gevent import pywsgi
from server.serve import COALESCE_BYTES, NoDelayHandler

writes = []
base_sendall = pywsgi.WSGIHandler._sendall
def counting_sendall(self, data):
    writes.append(len(data))
    return base_sendall(self, data)
pywsgi.WSGIHandler._sendall = counting_sendall

BIG = b"x" * (COALESCE_BYTES + 1000)

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/small":
        body = json.dumps({"ticket": "A-001"}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/empty":
        start_response("204 No Content", [])
        return [b""]
    if path == "/big":
        start_response("200 OK", [("Content-Length", str(len(BIG)))])
        return [BIG]
    if path == "/chunked":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"first,", b"second"])  # no length known (a list would get a Content-Length)
    raise AssertionError(path)

def fetch(port, path):
    sock = socket.create_connection(("127.0.0.1", port))
    # Kept alive, pywsgi answers a body of unknown length in chunks; closed, it just streams it.
    keep = path == "/chunked"
    close = "" if keep else "Connection: close\r\n"
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{close}\r\n".encode())
    data = b""
    while not (keep and data.endswith(b"0\r\n\r\n")) and (chunk := sock.recv(65536)):
        data += chunk
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode().split("\r\n")[0], body

server = pywsgi.WSGIServer(("127.0.0.1", 0), app, handler_class=NoDelayHandler, log=None)
server.start()
out = {}
for path in ("/small", "/empty", "/big", "/chunked"):
    del writes[:]
    status, body = fetch(server.server_port, path)
    out[path] = {"status": status, "body": body.decode("latin-1") if len(body) < 200 else len(body),
                 "writes": list(writes)}
server.stop()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def seen():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_small_reply_is_one_write_with_head_and_body(seen):
    small = seen["/small"]
    assert small["status"] == "HTTP/1.1 200 OK"
    assert small["body"] == '{"ticket": "A-001"}'
    assert len(small["writes"]) == 1
    assert small["writes"][0] > len('{"ticket": "A-001"}')  # the head came with it


def test_reply_without_body_still_sends_its_head(seen):
    assert seen["/empty"]["status"] == "HTTP/1.1 204 No Content"
    assert seen["/empty"]["body"] == ""
    assert len(seen["/empty"]["writes"]) == 1


def test_large_body_is_not_copied_behind_the_head(seen):
    big = seen["/big"]
    assert big["status"] == "HTTP/1.1 200 OK"
    assert len(big["writes"]) == 2
    assert big["writes"][1] == big["body"]  # the body went out as it was, after the head alone
    assert big["writes"][0] < 1000


def test_chunked_reply_carries_its_first_chunk_with_the_head(seen):
    chunked = seen["/chunked"]
    assert chunked["status"] == "HTTP/1.1 200 OK"
    assert chunked["body"] == "6\r\nfirst,\r\n6\r\nsecond\r\n0\r\n\r\n"
    assert len(chunked["writes"]) == 3  # head + first chunk, second chunk, terminator

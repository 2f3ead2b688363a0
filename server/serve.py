"""Serve HTTP and Socket.IO on gevent's WSGI server (websockets through simple-websocket)."""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import socket

import gevent
from gevent import pywsgi

from server.realtime import pings

log = logging.getLogger(__name__)


# pywsgi reads requests through an 8 KiB buffer that stays with the connection for its life, a websocket's too,
# although simple-websocket reads the socket itself. Request heads are well under 2 KiB (bodies larger than the
# buffer are read past it): 2 KiB saves ~3 KiB of memory per display (measured with 500).
READ_BUFFER_BYTES = 2048
# A response's head is sent together with a body up to this size (see NoDelayHandler._sendall).
COALESCE_BYTES = 64 * 1024


class NoDelayHandler(pywsgi.WSGIHandler):
    """pywsgi leaves Nagle on, which stalls keep-alive responses ~40 ms; small replies must go out now, and in one
    write with their head."""

    def __init__(self, sock, address, server, rfile=None):
        with contextlib.suppress(OSError):  # not a TCP socket (e.g. a Unix socket behind a proxy)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().__init__(sock, address, server, rfile if rfile is not None else sock.makefile("rb", READ_BUFFER_BYTES))
        self._held: bytearray | None = None

    # pywsgi sends a response's head and its body in two writes; with Nagle off, that is two TCP segments and
    # two wake-ups of the client for every small JSON reply (17 % of a ticket-issuing profile's samples were in
    # those sends, 11 % after this). The head is held back and goes out with the body's first bytes.
    def _write_with_headers(self, data):
        self._held = bytearray()
        try:
            super()._write_with_headers(data)
            held = self._held
        finally:
            self._held = None
        if held:  # the head with a small body, or alone (an empty body)
            super()._sendall(held)

    def _sendall(self, data):
        held = self._held
        if held is None:
            super()._sendall(data)
        elif len(held) + len(data) <= COALESCE_BYTES:
            held += data
        else:  # a large body: no copy of it, the head first
            self._held = bytearray()
            if held:
                super()._sendall(held)
            super()._sendall(data)


def without_websocket_compression(app):
    """Refuse permessage-deflate: browsers offer it and simple-websocket accepts it, which costs every
    display a zlib state (~110 KiB measured) and the server CPU per message, for messages of ~300 bytes."""
    def middleware(environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return app(environ, start_response)
    return middleware


def settle_garbage_collector() -> None:
    """Move everything loaded at start-up out of the collector's sight and collect less often: with
    a thousand connections a full collection took 100-200 ms, which every waiting call would feel."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


def start_background_work(app) -> None:
    """This process's share of the background work: once per cluster (the leader's), not once per process."""
    spooler, leadership = app.extensions["civicqueue_spooler"], app.extensions["civicqueue_cluster"]

    def recover():
        with app.app_context():
            spooler.recover()

    leadership.on_lead(recover)
    spooler.watch_printers(app.config["QMS_SETTINGS"].server.printer_check_seconds, lambda: leadership.is_leader)
    leadership.start()


def lighter_greenlets() -> None:
    """Stop gevent recording, for every greenlet it spawns, the greenlet and the ten stack frames that spawned it
    (gevent's `track_greenlet_tree`, for debugging tools we do not use). Each display holds two such greenlets
    for as long as it is connected, and every HTTP connection spawns one: about 3 KiB less per display
    (measured at 500 displays) and a cheaper spawn."""
    gevent.config.track_greenlet_tree = False


def prepare(app):
    """Everything a serving process does before its first request; the WSGI callable to serve
    (`python -m server run` and gunicorn's server.wsgi alike)."""
    if app.extensions["socketio"].server.eio.async_mode == "gevent":
        lighter_greenlets()
        pings.use_loop_timers()
    start_background_work(app)
    settle_garbage_collector()
    return without_websocket_compression(app)


def serve(app, host: str, port: int, *, access_log: bool = False) -> None:
    """Serve until SIGINT or SIGTERM, then stop accepting and let running requests finish."""
    server = pywsgi.WSGIServer((host, port), prepare(app), handler_class=NoDelayHandler,
                               log=logging.getLogger("access") if access_log else None,
                               error_log=logging.getLogger("wsgi"))
    for sig in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(sig, server.stop, 5)
    log.info("CivicQueue listening on http://%s:%s", host, port)
    server.serve_forever()
